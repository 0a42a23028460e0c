package policies

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/dcrgate/dcrgate/client"
)

// The kinds that shape a new client rather than refuse it.
const (
	// KindDefaults is PingFederate's "Client Configuration Defaults":
	// metadata filled in where a request omits it.
	KindDefaults = "defaults"
	// KindApproval stores the new clients it matches disabled, until an
	// administrator enables them.
	KindApproval = "approval"
)

// notDefaultable are members a defaults policy may not fill: they identify
// a client or carry credentials, and are never the server's to choose.
var notDefaultable = []string{"client_id", "client_secret", "software_statement", "registration_access_token",
	"registration_client_uri", "client_id_issued_at", "client_secret_expires_at"}

// clientDefaults fills in the metadata members a request omits. It refuses
// nothing: the registration applies its members beneath the request's
// before decoding (Chain.Defaults), so filled-in values pass every rule a
// request's own would, the other policies included.
type clientDefaults struct {
	members map[string]json.RawMessage
}

func newDefaults(s Spec) (Policy, error) {
	if len(s.Metadata) == 0 {
		return nil, errors.New("metadata: at least one member to fill in is required")
	}
	data, err := json.Marshal(s.Metadata)
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	if _, err := client.Decode(data, client.Options{}); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	d := clientDefaults{}
	if err := json.Unmarshal(data, &d.members); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	for _, name := range slices.Sorted(maps.Keys(d.members)) {
		if slices.Contains(notDefaultable, name) {
			return nil, fmt.Errorf("metadata: %s cannot have a default", name)
		}
	}
	return d, nil
}

// Check implements Policy: defaults refuse nothing.
func (clientDefaults) Check(context.Context, Request) error { return nil }

// approval marks the new clients it matches — by its issuers and scopes
// and, when set, a CEL expression over the request — to be stored disabled
// until an administrator enables them.
type approval struct {
	name string
	when *celRule
}

func newApproval(s Spec) (Policy, error) {
	a := approval{name: s.displayName()}
	if s.Expression != "" {
		rule, err := newCELRule(s)
		if err != nil {
			return nil, err
		}
		r := rule.(celRule)
		a.when = &r
	}
	return a, nil
}

// Check implements Policy: approval refuses nothing.
func (approval) Check(context.Context, Request) error { return nil }

// matches reports whether r needs approval. An expression that fails to
// evaluate asks for approval: it fails closed, as every policy does.
func (a approval) matches(ctx context.Context, r Request) bool {
	if a.when == nil {
		return true
	}
	ok, err := a.when.eval(ctx, r)
	return ok || err != nil
}

// Defaults returns the members the chain's defaults policies fill in for
// r's caller: each policy that selects the caller contributes the members
// no earlier one set, so, as everywhere in the chain, the first one wins.
func (c Chain) Defaults(r Request) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for _, pol := range c {
		if d, ok := unwrap[clientDefaults](pol, r); ok {
			for name, v := range d.members {
				if _, set := out[name]; !set {
					out[name] = v
				}
			}
		}
	}
	return out
}

// Approval returns the name of the first approval policy that holds a new
// client for an administrator, or "" when none does. Only registrations
// are held: an update of a client keeps its state.
func (c Chain) Approval(ctx context.Context, r Request) string {
	if r.Operation != "register" {
		return ""
	}
	for _, pol := range c {
		if a, ok := unwrap[approval](pol, r); ok && a.matches(ctx, r) {
			return a.name
		}
	}
	return ""
}

// unwrap returns pol as a T when it is one and selects r's caller
// (issuers:, scopes:, anonymous:).
func unwrap[T Policy](pol Policy, r Request) (T, bool) {
	if w, ok := pol.(whenPolicy); ok {
		if !w.selects(r) {
			var zero T
			return zero, false
		}
		pol = w.Policy
	}
	t, ok := pol.(T)
	return t, ok
}
