package policies

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/oauth"
)

// allowList refuses metadata values outside a configured set: scopes, grant
// types or the token endpoint auth method, chosen by the spec's kind.
type allowList struct {
	name    string
	member  string
	allowed []string
	values  func(*client.Metadata) []string
}

func newAllowList(s Spec) (Policy, error) {
	if len(s.Values) == 0 {
		return nil, errors.New("values: at least one allowed value is required")
	}
	a := allowList{name: s.displayName(), allowed: s.Values}
	switch s.Kind {
	case KindAllowedScopes:
		a.member, a.values = "scope", func(m *client.Metadata) []string { return strings.Fields(m.Scope) }
	case KindAllowedGrantTypes:
		a.member, a.values = "grant_types", func(m *client.Metadata) []string { return m.GrantTypes }
	case KindAllowedAuthMethods:
		a.member, a.values = "token_endpoint_auth_method", func(m *client.Metadata) []string {
			return []string{m.TokenEndpointAuthMethod}
		}
	}
	return a, nil
}

// Check implements Policy.
func (a allowList) Check(_ context.Context, r Request) error {
	for _, v := range a.values(r.Metadata) {
		if !slices.Contains(a.allowed, v) {
			return refusal(oauth.ErrInvalidClientMetadata, a.name, "%s value %q is not allowed here", a.member, v)
		}
	}
	return nil
}
