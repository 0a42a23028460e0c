package policies

import (
	"context"
	"errors"

	"github.com/dcrgate/dcrgate/oauth"
)

// maxClients caps the clients one caller (token issuer + subject) may have
// registered, as Keycloak's "Max Clients Limit" does. It judges only
// registrations with a token principal: an open registration has no owner
// to count.
type maxClients struct {
	name  string
	max   int
	count OwnerCounter
}

func newMaxClients(s Spec, count OwnerCounter) (Policy, error) {
	switch {
	case s.Max < 1:
		return nil, errors.New("max: must be at least 1")
	case count == nil:
		return nil, errors.New("needs a store to count clients")
	}
	return maxClients{name: s.displayName(), max: s.Max, count: count}, nil
}

// Check implements Policy. The count and the create are not atomic, so
// concurrent registrations by one caller can overshoot by the number in
// flight; the limit is a guard rail, not a quota ledger.
func (p maxClients) Check(ctx context.Context, r Request) error {
	if r.Operation != "register" || r.Principal == nil {
		return nil
	}
	n, err := p.count(ctx, r.Principal.Issuer, r.Principal.Subject, p.max)
	if err != nil {
		return oauth.ErrTemporarilyUnavailable.WithDescription("the client directory cannot be reached").WithCause(err)
	}
	if n >= p.max {
		return refusal(oauth.ErrAccessDenied, p.name, "this caller already has %d registered clients, the most allowed", p.max)
	}
	return nil
}
