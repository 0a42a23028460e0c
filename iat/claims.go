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
func principalFromClaims(claims map[string]any) (Principal, error) {
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
	if p.Scopes, err = scopes(claims); err != nil {
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
// as an array of strings or as a string.
func scopes(claims map[string]any) ([]string, error) {
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
	return scpClaim(v)
}

func scpClaim(v any) ([]string, error) {
	switch v := v.(type) {
	case string:
		return strings.Fields(v), nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("claim scp holds %T, not a string", e)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("claim scp is %T, not a string or an array", v)
}

// audienceAnyOf accepts a token whose "aud" names at least one of want
// (RFC 7519 §4.1.3: the recipient must identify itself with a value in aud).
// jwt.WithAudience would require every value, which is not what a list of
// acceptable names for the same gateway means.
func audienceAnyOf(want []string) jwt.Validator {
	return jwt.ValidatorFunc(func(_ context.Context, tok jwt.Token) error {
		aud, _ := tok.Audience()
		for _, a := range aud {
			if slices.Contains(want, a) {
				return nil
			}
		}
		if len(aud) == 0 {
			return errors.New("token has no aud")
		}
		return fmt.Errorf("aud %q names none of %q", aud, want)
	})
}
