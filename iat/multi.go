package iat

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jws/jwsbb"
)

// Route sends the tokens of one issuer to the validator that judges them.
type Route struct {
	Issuer    string
	Method    string // MethodJWT or MethodIntrospection, for metrics
	Validator Validator
}

// OpaqueRoute sends opaque tokens that start with Prefix to an
// introspection validator. "" matches every token.
type OpaqueRoute struct {
	Route
	Prefix string
}

// Router picks the validator for each token.
//
// A token in JWS compact form goes by its unverified "iss" to that issuer's
// validator: its JWKS when it has one, else its introspection endpoint.
// Reading iss before verification is safe because the chosen validator then
// verifies the token against that issuer's keys only, and checks iss again:
// a lie about the issuer just selects keys that do not verify. Routing by
// iss, instead of trying every issuer's keys, keeps the cost of a forged
// token constant and one issuer's key from ever vouching for another
// issuer's token. A JWT from an unknown issuer is refused, never sent to an
// introspection endpoint.
//
// Any other token is opaque and goes to the introspection route with the
// longest Prefix it starts with; the route with the empty prefix, if any,
// takes the rest. A token is never sent to more than one authorization
// server: handing a bearer token to a server that did not issue it would
// disclose it, so there is no "try each in turn".
type Router struct {
	byIssuer map[string]Route
	opaque   []OpaqueRoute // longest prefix first
	metrics  Metrics
}

// Multi is the router of JWT-only configurations.
type Multi = Router

// NewRouter checks the routes: every issuer once among jwt, every prefix
// once among opaque. metrics may be nil.
func NewRouter(jwt []Route, opaque []OpaqueRoute, metrics Metrics) (*Router, error) {
	r := &Router{byIssuer: make(map[string]Route, len(jwt)), metrics: orDiscard(metrics)}
	for _, rt := range jwt {
		if rt.Issuer == "" || rt.Validator == nil {
			return nil, fmt.Errorf("iat: router: issuer %q needs a name and a validator", rt.Issuer)
		}
		if _, dup := r.byIssuer[rt.Issuer]; dup {
			return nil, fmt.Errorf("iat: router: issuer %q is routed twice", rt.Issuer)
		}
		r.byIssuer[rt.Issuer] = rt
	}
	seen := map[string]bool{}
	for _, o := range opaque {
		if o.Issuer == "" || o.Validator == nil || seen[o.Prefix] {
			return nil, fmt.Errorf("iat: router: opaque route %q for issuer %q: need a name, a validator and a unique prefix", o.Prefix, o.Issuer)
		}
		seen[o.Prefix] = true
	}
	r.opaque = slices.SortedFunc(slices.Values(opaque), func(a, b OpaqueRoute) int {
		return cmp.Compare(len(b.Prefix), len(a.Prefix))
	})
	return r, nil
}

// SetMetrics directs the router's observations, and those of validators
// built with the same sink, to m, when the router was built with a
// *MetricsSink (see MetricsSink for why).
func (r *Router) SetMetrics(m Metrics) {
	if s, ok := r.metrics.(*MetricsSink); ok && s != nil {
		s.Set(m)
	}
}

// NewMulti returns a Router over JWT validators keyed by issuer.
func NewMulti(byIssuer map[string]Validator) (*Router, error) {
	routes := make([]Route, 0, len(byIssuer))
	for iss, v := range byIssuer {
		routes = append(routes, Route{Issuer: iss, Method: MethodJWT, Validator: v})
	}
	return NewRouter(routes, nil, nil)
}

// Validate routes token (see Router) and checks the validator answered for
// the issuer it was chosen for.
func (r *Router) Validate(ctx context.Context, token string) (Principal, error) {
	rt, err := r.route(token)
	if err != nil {
		r.metrics.Validation(unknownIssuer, rt.Method, ResultInvalid)
		return Principal{}, invalid(err)
	}
	p, err := rt.Validator.Validate(ctx, token)
	if err == nil && p.Issuer != rt.Issuer {
		// Defence in depth: a validator must not vouch for another issuer.
		err = invalid(fmt.Errorf("validator for %q returned issuer %q", rt.Issuer, p.Issuer))
	}
	r.metrics.Validation(rt.Issuer, rt.Method, resultOf(err))
	if err != nil {
		return Principal{}, err
	}
	return p, nil
}

// route finds the route; on error the returned Route carries only the
// method the token would have taken.
func (r *Router) route(token string) (Route, error) {
	if !looksLikeJWS(token) {
		for _, o := range r.opaque {
			if strings.HasPrefix(token, o.Prefix) {
				return o.Route, nil
			}
		}
		return Route{Method: MethodIntrospection}, errors.New("not a JWT, and no introspection endpoint is configured for tokens like it")
	}
	iss, err := unverifiedIssuer(token)
	if err != nil {
		return Route{Method: MethodJWT}, err
	}
	rt, ok := r.byIssuer[iss]
	if !ok {
		return Route{Method: MethodJWT}, fmt.Errorf("unknown issuer %q", iss)
	}
	return rt, nil
}

// looksLikeJWS reports whether token has the shape of a compact JWS
// (RFC 7515 §7.1): three dot-separated parts, the first a base64url JSON
// object. Opaque tokens may contain dots (ORY Hydra's have one), so the
// header must parse too.
func looksLikeJWS(token string) bool {
	if len(token) > maxTokenBytes || strings.Count(token, ".") != 2 {
		return false
	}
	head, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return false
	}
	var hdr map[string]json.RawMessage
	return json.Unmarshal(raw, &hdr) == nil
}

// unverifiedIssuer base64url-decodes the payload of a compact JWS
// (RFC 7515 §7.1, unpadded per §2) and reads iss, trusting nothing else.
func unverifiedIssuer(token string) (string, error) {
	if len(token) > maxTokenBytes {
		return "", fmt.Errorf("token is %d bytes, more than %d", len(token), maxTokenBytes)
	}
	_, seg, _, err := jwsbb.SplitCompactString(token)
	if err != nil {
		return "", fmt.Errorf("not a compact JWS: %w", err)
	}
	payload, err := base64.RawURLEncoding.DecodeString(string(seg))
	if err != nil {
		return "", fmt.Errorf("payload is not base64url: %w", err)
	}
	// A map, not a struct: encoding/json would also fill a struct field
	// from "ISS" or "Iss", and the claim name is case-sensitive.
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", fmt.Errorf("payload is not a claims object: %w", err)
	}
	var iss string
	if raw, ok := claims["iss"]; ok {
		if err := json.Unmarshal(raw, &iss); err != nil {
			return "", fmt.Errorf("claim iss: %w", err)
		}
	}
	if iss == "" {
		return "", errors.New("token has no iss")
	}
	return iss, nil
}
