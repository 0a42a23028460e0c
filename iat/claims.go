package iat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jwt"
)

// principalFromClaims builds the Principal from a verified claim set. The
// claim names are shared by JWT access tokens (RFC 9068 §2.2) and
// introspection responses (RFC 7662 §2.2), so both validators use this.
// scopeClaim, when set, is the one claim that carries the scopes;
// otherwise "scope" and then "scp" are read.
func principalFromClaims(claims map[string]any, scopeClaim string) (Principal, error) {
	p := Principal{Claims: claims}
	var err error
	if p.Issuer, err = stringClaim(claims, "iss"); err != nil {
		return Principal{}, err
	}
	if p.Subject, err = stringClaim(claims, "sub"); err != nil {
		return Principal{}, err
	}
	if p.ClientID, err = clientID(claims); err != nil {
		return Principal{}, err
	}
	if p.Scopes, err = scopes(claims, scopeClaim); err != nil {
		return Principal{}, err
	}
	if p.TokenID, err = stringClaim(claims, "jti"); err != nil {
		return Principal{}, err
	}
	return p, nil
}

// stringClaim returns the claim name, "" when absent, and an error when it
// is there but not a string: a claim of the wrong type is a malformed
// token, not a missing claim.
func stringClaim(claims map[string]any, name string) (string, error) {
	v, ok := claims[name]
	if !ok {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("claim %s is %T, not a string", name, v)
	}
	return s, nil
}

// clientID is "client_id" (RFC 9068 §2.2, RFC 8693 §4.3) or, from
// authorization servers that predate it, OpenID Connect's "azp".
func clientID(claims map[string]any) (string, error) {
	id, err := stringClaim(claims, "client_id")
	if err != nil || id != "" {
		return id, err
	}
	return stringClaim(claims, "azp")
}

// scopes reads "scope", a space-separated string (RFC 9068 §2.2.3,
// RFC 8693 §4.2), or else "scp", which some servers (Okta, Azure AD) send
// as an array of strings or as a string. A configured claim name replaces
// both, for servers that put scopes elsewhere; it may be a string or an
// array.
func scopes(claims map[string]any, scopeClaim string) ([]string, error) {
	if scopeClaim != "" {
		v, ok := claims[scopeClaim]
		if !ok {
			return nil, nil
		}
		return scpClaim(scopeClaim, v)
	}
	if v, ok := claims["scope"]; ok {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("claim scope is %T, not a string", v)
		}
		return strings.Fields(s), nil
	}
	v, ok := claims["scp"]
	if !ok {
		return nil, nil
	}
	return scpClaim("scp", v)
}

// scpClaim reads a scope claim that is a space-separated string or an array
// of strings.
func scpClaim(name string, v any) ([]string, error) {
	switch v := v.(type) {
	case string:
		return strings.Fields(v), nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("claim %s holds %T, not a string", name, e)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("claim %s is %T, not a string or an array", name, v)
}

// audienceAnyOf accepts a token whose "aud" names at least one of want
// (RFC 7519 §4.1.3: the recipient must identify itself with a value in aud).
// jwt.WithAudience would require every value, which is not what a list of
// acceptable names for the same gateway means.
func audienceAnyOf(want []string) jwt.Validator {
	return jwt.ValidatorFunc(func(_ context.Context, tok jwt.Token) error {
		aud, _ := tok.Audience()
		return checkAudience(aud, want)
	})
}

// checkAudience is the rule of audienceAnyOf, shared with introspection
// responses, whose "aud" has the same meaning (RFC 7662 §2.2).
func checkAudience(aud, want []string) error {
	for _, a := range aud {
		if slices.Contains(want, a) {
			return nil
		}
	}
	if len(aud) == 0 {
		return errors.New("token has no aud")
	}
	return fmt.Errorf("aud %q names none of %q", aud, want)
}

// audienceClaim reads "aud" from a claim map: a string or an array of
// strings (RFC 7519 §4.1.3).
func audienceClaim(claims map[string]any) ([]string, error) {
	switch v := claims["aud"].(type) {
	case nil:
		return nil, nil
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("claim aud holds %T, not a string", e)
			}
			out = append(out, s)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("claim aud is %T, not a string or an array", v)
	}
}
