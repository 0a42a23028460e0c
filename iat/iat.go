// Package iat validates initial access tokens (RFC 7591 §3) issued by an
// external authorization server, turning a bearer token into the Principal
// that registration policies see and that becomes the client's owner.
package iat

import (
	"context"
	"errors"
	"slices"
)

// Principal is the validated caller behind an initial access token.
type Principal struct {
	Issuer   string
	Subject  string
	ClientID string
	Scopes   []string
	// Claims are all claims of the token (JWT) or introspection response.
	Claims map[string]any
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
