package policies

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/dcrgate/dcrgate/oauth"
)

// The policy kinds. Each takes its settings from Spec.
const (
	// KindRedirectURIHosts is Keycloak's "Trusted Hosts": every redirect URI
	// must point at an allowed host (or, for private-use schemes, scheme).
	KindRedirectURIHosts = "redirect_uri_hosts"
	// KindAllowedScopes limits the scope a client may register.
	KindAllowedScopes = "allowed_scopes"
	// KindAllowedGrantTypes limits grant_types.
	KindAllowedGrantTypes = "allowed_grant_types"
	// KindAllowedAuthMethods limits token_endpoint_auth_method.
	KindAllowedAuthMethods = "allowed_auth_methods"
	// KindMaxClientsPerOwner caps how many clients one caller may register.
	KindMaxClientsPerOwner = "max_clients_per_owner"
	// KindCEL is a rule written in the Common Expression Language.
	KindCEL = "cel"
)

// Kinds lists the kinds Build knows, for configuration errors and docs.
var Kinds = []string{KindRedirectURIHosts, KindAllowedScopes, KindAllowedGrantTypes,
	KindAllowedAuthMethods, KindMaxClientsPerOwner, KindCEL, KindSoftwareStatement, KindDefaults, KindApproval}

// Spec is one configured policy.
type Spec struct {
	// Name appears in refusals and logs; defaults to the kind.
	Name string
	Kind string
	// Values are the allowed hosts, scopes, grant types or auth methods;
	// for software_statement, the statement issuers accepted (empty: any
	// trusted one).
	Values []string
	// Max is the limit of max_clients_per_owner.
	Max int
	// Expression is the CEL rule of a cel policy, or the condition of an
	// approval policy; it must yield a bool.
	Expression string
	// Message is the error_description when a cel policy refuses.
	Message string
	// Error is the error code when a cel policy refuses: invalid_client_metadata
	// (default), invalid_redirect_uri or access_denied.
	Error string
	// Metadata are the members a defaults policy fills in.
	Metadata map[string]any
	// Anonymous makes the policy judge the registrations without an initial
	// access token that the anonymous profile admits (and updates of the
	// clients they made), and nothing else.
	Anonymous bool
	// Issuers and Scopes select the callers a policy applies to (the
	// "chain chosen by the caller's token"): when set, the initial access
	// token must come from one of Issuers and carry one of Scopes.
	Issuers []string
	Scopes  []string
}

// OwnerCounter counts the clients a caller has registered, counting no
// further than limit; the store provides it (store.Count with an owner
// query), so the cost is bounded by the limit, not by the caller's clients.
type OwnerCounter func(ctx context.Context, issuer, subject string, limit int) (int, error)

// Option configures Build.
type Option func(*builder)

// WithOwnerCounter supplies the counter max_clients_per_owner needs.
func WithOwnerCounter(c OwnerCounter) Option { return func(b *builder) { b.counter = c } }

type builder struct {
	counter OwnerCounter
}

// Build turns specs into a Chain in their order, reporting every bad spec
// at once so one restart fixes the whole configuration.
func Build(specs []Spec, opts ...Option) (Chain, error) {
	var b builder
	for _, o := range opts {
		o(&b)
	}
	var chain Chain
	var errs []error
	for i, s := range specs {
		p, err := b.build(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("policies[%d] (%s): %w", i, s.displayName(), err))
			continue
		}
		chain = append(chain, scoped(s, p))
	}
	return chain, errors.Join(errs...)
}

func (b builder) build(s Spec) (Policy, error) {
	switch s.Kind {
	case KindRedirectURIHosts:
		return newRedirectHosts(s)
	case KindAllowedScopes, KindAllowedGrantTypes, KindAllowedAuthMethods:
		return newAllowList(s)
	case KindMaxClientsPerOwner:
		return newMaxClients(s, b.counter)
	case KindCEL:
		return newCELRule(s)
	case KindSoftwareStatement:
		return SoftwareStatement{Name: s.displayName(), Issuers: s.Values}, nil
	case KindDefaults:
		return newDefaults(s)
	case KindApproval:
		return newApproval(s)
	default:
		return nil, fmt.Errorf("unknown kind %q (known: %v)", s.Kind, Kinds)
	}
}

func (s Spec) displayName() string {
	if s.Name != "" {
		return s.Name
	}
	return s.Kind
}

// whenPolicy applies its policy only to matching callers.
type whenPolicy struct {
	issuers, scopes []string
	anonymous       bool
	Policy
}

// scoped wraps p in its caller selection.
func scoped(s Spec, p Policy) Policy {
	return whenPolicy{issuers: s.Issuers, scopes: s.Scopes, anonymous: s.Anonymous, Policy: p}
}

// Check implements Policy.
func (w whenPolicy) Check(ctx context.Context, r Request) error {
	if !w.selects(r) {
		return nil
	}
	return w.Policy.Check(ctx, r)
}

// selects reports whether the policy applies to r's caller. Requests
// judged by the anonymous profile are judged by the anonymous policies
// alone, and those judge nothing else. Requests without a token principal
// (open registration, and updates of clients registered that way) never
// match an issuers/scopes selection; updates of the others match as their
// registration did.
func (w whenPolicy) selects(r Request) bool {
	switch {
	case r.Anonymous != w.anonymous:
		return false
	case len(w.issuers) == 0 && len(w.scopes) == 0:
		return true
	}
	p := r.Principal
	return p != nil && (len(w.issuers) == 0 || slices.Contains(w.issuers, p.Issuer)) && p.HasAnyScope(w.scopes)
}

// refusal builds the error a policy returns, naming the policy so the
// developer knows which rule to ask about.
func refusal(base *oauth.Error, name, format string, args ...any) *oauth.Error {
	return base.WithDescription("%s (policy %s)", fmt.Sprintf(format, args...), name).WithPolicy(name)
}
