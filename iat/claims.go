package iat

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

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
	jti, err := stringClaim(claims, "jti")
	if err != nil {
		return Principal{}, err
	}
	p.TokenID = storableTokenID(jti)
	if err := checkStorable(p); err != nil {
		return Principal{}, err
	}
	return p, nil
}

// Bounds on what a Principal carries into the directory.
const (
	// maxClaimBytes bounds iss, sub, client_id and each scope: real ones
	// are URLs and identifiers far shorter, and a directory entry is no
	// place for kilobytes from a token.
	maxClaimBytes = 1024
	// maxTokenIDBytes bounds a jti kept as it is; longer ones are hashed.
	maxTokenIDBytes = 256
)

// checkStorable refuses a principal that registration could not store:
// the client's owner is written to directory string attributes (RFC 4517
// §3.3.6: UTF-8, and no NUL in practice), and a claim the directory
// refuses would otherwise surface as a 500 after the token was accepted.
// Such claims are the token's fault, so they make it invalid. Control
// characters (C0, DEL, C1) are refused too: they have no business in an
// identifier and would corrupt the logs that print it. Scopes must also
// be scope-tokens (RFC 6749 §3.3): non-empty, without spaces.
func checkStorable(p Principal) error {
	for _, c := range []struct{ name, value string }{{"iss", p.Issuer}, {"sub", p.Subject}, {"client_id", p.ClientID}} {
		if err := checkClaimString(c.value); err != nil {
			return fmt.Errorf("claim %s: %w", c.name, err)
		}
	}
	for _, s := range p.Scopes {
		if err := checkClaimString(s); err != nil {
			return fmt.Errorf("scope: %w", err)
		}
		if s == "" || strings.ContainsFunc(s, unicode.IsSpace) {
			return fmt.Errorf("scope %q is not a scope-token (RFC 6749 §3.3)", s)
		}
	}
	return nil
}

// checkClaimString is the directory string rule of checkStorable.
func checkClaimString(s string) error {
	switch {
	case len(s) > maxClaimBytes:
		return fmt.Errorf("%d bytes, more than %d", len(s), maxClaimBytes)
	case !utf8.ValidString(s):
		return errors.New("not valid UTF-8")
	case strings.ContainsFunc(s, unicode.IsControl):
		return fmt.Errorf("%q contains a control character", s)
	}
	return nil
}

// storableTokenID is the TokenID for a token whose "jti" is jti: jti
// itself when it fits the IA5 (ASCII) attribute it is stored in, else the
// SHA-256 of jti in hex. Hashing rather than refusing keeps such tokens
// usable: the hash is as stable as the jti (RFC 7519 §4.1.7 makes it
// unique per token), so registrations per token are still counted, and
// nothing unstorable reaches the directory. Only printable ASCII without
// spaces (0x21-0x7e) is kept, so no two jti that a directory's matching
// rules would treat as equal (spaces are insignificant to them) are
// stored as given. "" stays "": the caller names the token by its hash.
func storableTokenID(jti string) string {
	unprintable := func(r rune) bool { return r < 0x21 || r > 0x7e }
	if len(jti) <= maxTokenIDBytes && !strings.ContainsFunc(jti, unprintable) {
		return jti
	}
	sum := sha256.Sum256([]byte(jti))
	return hex.EncodeToString(sum[:])
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
