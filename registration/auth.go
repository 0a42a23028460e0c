package registration

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/iat"
	"github.com/dcrgate/dcrgate/oauth"
	"github.com/dcrgate/dcrgate/store"
)

// errWrongToken is returned from inside store callbacks when the registration
// access token does not match; it becomes the same 401 as an unknown client.
var errWrongToken = errors.New("registration: registration access token mismatch")

// authorizeRegistration checks the initial access token (RFC 7591 §3). It
// returns nil for open registration and for the anonymous profile. A token
// sent to an open endpoint is still checked, so a caller is never silently
// recorded as anonymous.
func (s *Service) authorizeRegistration(ctx context.Context, bearer string) (*iat.Principal, error) {
	if bearer == "" {
		if s.opts.RequireInitialAccessToken && !s.opts.Anonymous.Enabled {
			return nil, oauth.ErrMissingToken.WithDescription("an initial access token is required to register a client")
		}
		return nil, nil
	}
	if s.tokens == nil {
		return nil, nil
	}
	p, err := s.tokens.Validate(ctx, bearer)
	switch {
	case errors.Is(err, iat.ErrUnavailable):
		return nil, oauth.ErrTemporarilyUnavailable.WithDescription("the token issuer cannot be reached").WithCause(err)
	case err != nil:
		s.logger.InfoContext(ctx, "initial access token rejected", "reason", err)
		return nil, oauth.ErrInvalidToken.WithDescription("the initial access token is invalid or expired (the gateway's log gives the reason to its operators)").WithCause(err)
	}
	if required := s.requiredScopes(p.Issuer); !p.HasAnyScope(required) {
		return nil, oauth.ErrInsufficientScope.WithDescription("the initial access token needs one of the scopes: %s", strings.Join(required, ", "))
	}
	return &p, nil
}

// requiredScopes is the scope group a token of issuer needs: the issuer's
// own when configured, else the global one.
func (s *Service) requiredScopes(issuer string) []string {
	if scopes, ok := s.opts.IssuerScopes[issuer]; ok {
		return scopes
	}
	return s.opts.RequiredScopes
}

// authenticate is RFC 7592 §2's check of the registration access token, run
// on the stored record inside every management operation, before anything
// else is looked at, so the token is checked against the same revision
// that is written and no caller learns anything about a client it cannot
// manage. The token must be the client's current one, or the previous one
// within its grace period (Management.RotationGracePeriod), and the client
// active; anything else is the same error as an unknown client.
func authenticate(r client.Record, tokenHash string, now time.Time) (client.TokenMatch, error) {
	match := r.MatchToken(tokenHash, now)
	if match == client.NoTokenMatch || !r.Active(now) {
		return client.NoTokenMatch, errWrongToken
	}
	return match, nil
}

// requireManagement guards the RFC 7592 operations: management enabled,
// the caller within its per-address limit (which is what stops guessing
// tokens), a token present. The client ID comes from the request path;
// one that could not have been issued is answered like a wrong token and
// never reaches the store.
func (s *Service) requireManagement(ctx context.Context, clientID, bearer string) error {
	if !s.opts.Management.Enabled {
		return oauth.ErrNotFound.WithDescription("client management is not enabled")
	}
	if err := limitAddress(ctx, s.limits.managementIP, "management_per_ip"); err != nil {
		return err
	}
	if bearer == "" {
		return oauth.ErrMissingToken.WithDescription("a registration access token is required")
	}
	if !credentials.ValidClientID(clientID) {
		return managementError(errWrongToken)
	}
	return nil
}

// managementError maps store and callback errors of a management operation
// to OAuth errors. An unknown client and a wrong token look the same
// (RFC 7592 §2: no oracle for which client IDs exist).
func managementError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errWrongToken), errors.Is(err, store.ErrNotFound):
		return oauth.ErrInvalidToken.WithDescription("the registration access token is invalid for this client")
	default:
		return storeError(err)
	}
}

// storeError maps the store's sentinel errors; *oauth.Error values (from
// validation inside update callbacks) pass through unchanged.
func storeError(err error) error {
	var oe *oauth.Error
	switch {
	case errors.As(err, &oe):
		return oe
	case errors.Is(err, store.ErrUnavailable):
		return oauth.ErrTemporarilyUnavailable.WithDescription("the client directory cannot be reached").WithCause(err)
	case errors.Is(err, store.ErrConflict):
		return oauth.ErrConflict.WithCause(err)
	default:
		return oauth.From(err)
	}
}
