// Package iat validates initial access tokens (RFC 7591 §3) issued by an
// external authorization server, turning a bearer token into the Principal
// that registration policies see and that becomes the client's owner.
package iat

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
)

// Principal is the validated caller behind an initial access token. Each
// Validate call returns its own: its Scopes and Claims are shared neither
// with a validator's cache nor with another caller.
//
// Issuer, Subject, ClientID and each of Scopes are valid UTF-8 without
// control characters, at most 1024 bytes each, and scopes hold no spaces:
// validators refuse tokens whose claims are not (see checkStorable), so
// whatever registration stores of a principal, the directory accepts.
type Principal struct {
	Issuer   string
	Subject  string
	ClientID string
	Scopes   []string
	// TokenID names the token, never revealing it: its "jti" (RFC 7519
	// §4.1.7) when a JWT has one, else TokenHash of the token. Clients are
	// stored with it as their owner's token, which is how registrations per
	// token are counted. It is always printable ASCII of at most 256 bytes,
	// as its IA5 attribute needs: a jti that is not is replaced by its
	// SHA-256 in hex (see storableTokenID).
	TokenID string
	// Method is how the token was judged: MethodJWT or MethodIntrospection.
	Method string
	// Claims are all claims of the token (JWT) or introspection response,
	// as encoding/json decodes them.
	Claims map[string]any
}

// clone returns p with its own Scopes and a deep copy of Claims. The
// validators' caches store and hand out clones, so a caller that changes
// the Principal it was given (its scopes, a claim, an element of "aud")
// changes neither the cached answer nor what another caller sees.
func (p Principal) clone() Principal {
	p.Scopes = slices.Clone(p.Scopes)
	if p.Claims != nil {
		p.Claims = cloneJSON(p.Claims).(map[string]any)
	}
	return p
}

// cloneJSON deep-copies a value decoded by encoding/json into any: objects
// and arrays are copied, the other kinds (string, float64, bool, nil,
// json.Number) are immutable and shared.
func cloneJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = cloneJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneJSON(e)
		}
		return out
	}
	return v
}

// The validation methods, as in Principal.Method and the metrics labels.
const (
	MethodJWT           = "jwt"
	MethodIntrospection = "introspection"
)

// TokenHash is the SHA-256 of a token in lower-case hex: how an opaque
// token is named in the directory, the logs and the cache, so the token
// itself is never kept.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// HasAnyScope reports whether the principal holds at least one of scopes;
// an empty list is always satisfied. This is PingFederate's "scope or scope
// group": any one scope of the group suffices.
func (p Principal) HasAnyScope(scopes []string) bool {
	if len(scopes) == 0 {
		return true
	}
	for _, s := range scopes {
		if slices.Contains(p.Scopes, s) {
			return true
		}
	}
	return false
}

// Errors a Validator returns, wrapped with detail for the logs.
var (
	// ErrInvalidToken: the token is malformed, forged, expired, for another
	// audience or from an unknown issuer. Answered with 401.
	ErrInvalidToken = errors.New("iat: invalid token")
	// ErrUnavailable: the issuer's JWKS or introspection endpoint could not be
	// reached, so the token could not be judged. Answered with 503.
	ErrUnavailable = errors.New("iat: token issuer unavailable")
)

// Validator checks a bearer token and returns its principal.
type Validator interface {
	Validate(ctx context.Context, token string) (Principal, error)
}
