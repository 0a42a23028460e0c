package policies

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/iat"
	"github.com/dcrgate/dcrgate/oauth"
)

func webMetadata() *client.Metadata {
	return &client.Metadata{
		RedirectURIs:            []string{"https://app.example.com/cb"},
		GrantTypes:              []string{"authorization_code"},
		ResponseTypes:           []string{"code"},
		TokenEndpointAuthMethod: "client_secret_basic",
		Scope:                   "openid profile",
	}
}

var developer = &iat.Principal{Issuer: "https://as.example.com", Subject: "dev-1", Scopes: []string{"dcr"},
	Claims: map[string]any{"department": "payments"}}

func TestPolicies(t *testing.T) {
	counter := func(_ context.Context, issuer, subject string, _ int) (int, error) {
		if subject == "dev-1" {
			return 3, nil
		}
		return 0, nil
	}
	tests := []struct {
		name     string
		spec     Spec
		edit     func(*client.Metadata)
		caller   *iat.Principal
		wantCode string // "" = allowed
	}{
		{"ok/trusted host", Spec{Kind: KindRedirectURIHosts, Values: []string{"app.example.com"}}, nil, developer, ""},
		{"ok/wildcard subdomain", Spec{Kind: KindRedirectURIHosts, Values: []string{"*.example.com"}}, nil, developer, ""},
		{"fail/wildcard is not the apex", Spec{Kind: KindRedirectURIHosts, Values: []string{"*.example.com"}},
			func(m *client.Metadata) { m.RedirectURIs = []string{"https://example.com/cb"} }, developer, "invalid_redirect_uri"},
		{"fail/suffix trick", Spec{Kind: KindRedirectURIHosts, Values: []string{"*.example.com"}},
			func(m *client.Metadata) { m.RedirectURIs = []string{"https://evilexample.com/cb"} }, developer, "invalid_redirect_uri"},
		{"fail/untrusted host", Spec{Kind: KindRedirectURIHosts, Values: []string{"app.example.com"}},
			func(m *client.Metadata) { m.RedirectURIs = append(m.RedirectURIs, "https://evil.example.net/cb") }, developer, "invalid_redirect_uri"},
		{"fail/loopback not listed", Spec{Kind: KindRedirectURIHosts, Values: []string{"app.example.com"}},
			func(m *client.Metadata) { m.RedirectURIs = []string{"http://127.0.0.1:8080/cb"} }, developer, "invalid_redirect_uri"},
		{"ok/ipv6 loopback listed", Spec{Kind: KindRedirectURIHosts, Values: []string{"[::1]"}},
			func(m *client.Metadata) { m.RedirectURIs = []string{"http://[::1]:8080/cb"} }, developer, ""},
		{"ok/private-use scheme", Spec{Kind: KindRedirectURIHosts, Values: []string{"com.example.app:"}},
			func(m *client.Metadata) { m.RedirectURIs = []string{"com.example.app:/oauth2redirect"} }, developer, ""},
		{"fail/post-logout host", Spec{Kind: KindRedirectURIHosts, Values: []string{"app.example.com"}},
			func(m *client.Metadata) { m.PostLogoutRedirectURIs = []string{"https://evil.example.net/"} }, developer, "invalid_redirect_uri"},
		{"ok/allowed scopes", Spec{Kind: KindAllowedScopes, Values: []string{"openid", "profile", "email"}}, nil, developer, ""},
		{"fail/scope not allowed", Spec{Kind: KindAllowedScopes, Values: []string{"openid"}}, nil, developer, "invalid_client_metadata"},
		{"fail/grant not allowed", Spec{Kind: KindAllowedGrantTypes, Values: []string{"client_credentials"}}, nil, developer, "invalid_client_metadata"},
		{"fail/auth method not allowed", Spec{Kind: KindAllowedAuthMethods, Values: []string{"private_key_jwt"}}, nil, developer, "invalid_client_metadata"},
		{"fail/over the client limit", Spec{Kind: KindMaxClientsPerOwner, Max: 3}, nil, developer, "access_denied"},
		{"ok/under the client limit", Spec{Kind: KindMaxClientsPerOwner, Max: 4}, nil, developer, ""},
		{"ok/limit skips open registration", Spec{Kind: KindMaxClientsPerOwner, Max: 1}, nil, nil, ""},
		{"ok/cel allows", Spec{Kind: KindCEL, Expression: `principal.claims.department == "payments"`}, nil, developer, ""},
		{"fail/cel refuses", Spec{Kind: KindCEL, Expression: `!("authorization_code" in metadata.grant_types)`, Message: "no interactive clients"},
			nil, developer, "invalid_client_metadata"},
		{"fail/cel access_denied", Spec{Kind: KindCEL, Expression: `"dcr:admin" in principal.scopes`, Error: "access_denied"}, nil, developer, "access_denied"},
		{"fail/cel runtime error fails closed", Spec{Kind: KindCEL, Expression: `metadata.no_such_member == "x"`}, nil, developer, "invalid_client_metadata"},
		{"fail/cel open registration has no claims", Spec{Kind: KindCEL, Expression: `principal.claims.department == "payments"`}, nil, nil, "invalid_client_metadata"},
		{"fail/statement required", Spec{Kind: KindSoftwareStatement}, nil, developer, "invalid_software_statement"},
		{"ok/selection skips other issuers", Spec{Kind: KindAllowedScopes, Values: []string{"openid"}, Issuers: []string{"https://partner.example.org"}}, nil, developer, ""},
		{"fail/selection applies to matching scope", Spec{Kind: KindAllowedScopes, Values: []string{"openid"}, Scopes: []string{"dcr"}}, nil, developer, "invalid_client_metadata"},
		{"ok/selection skips callers without the scope", Spec{Kind: KindAllowedScopes, Values: []string{"openid"}, Scopes: []string{"dcr:partner"}}, nil, developer, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chain, err := Build([]Spec{tt.spec}, WithOwnerCounter(counter))
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			md := webMetadata()
			if tt.edit != nil {
				tt.edit(md)
			}
			err = chain.Check(context.Background(), Request{Operation: "register", Principal: tt.caller, Metadata: md})
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var oe *oauth.Error
			if !errors.As(err, &oe) || oe.Code != tt.wantCode {
				t.Fatalf("err = %v, want %s", err, tt.wantCode)
			}
			if tt.spec.Kind != KindSoftwareStatement && !strings.Contains(oe.Description, "(policy ") {
				t.Fatalf("refusal does not name the policy: %q", oe.Description)
			}
		})
	}
}

func TestBuildReportsEveryBadSpec(t *testing.T) {
	_, err := Build([]Spec{
		{Kind: "nope"},
		{Kind: KindAllowedScopes},
		{Kind: KindRedirectURIHosts, Values: []string{"*"}},
		{Kind: KindMaxClientsPerOwner, Max: 0},
		{Kind: KindCEL, Expression: `metadata.scope`},
		{Kind: KindCEL, Expression: `1 +`},
		{Kind: KindCEL, Expression: `true`, Error: "server_error"},
		{Name: "fine", Kind: KindAllowedScopes, Values: []string{"openid"}},
	})
	if err == nil {
		t.Fatal("Build accepted bad specs")
	}
	for _, want := range []string{"policies[0]", "unknown kind", "policies[1]", "policies[2]", "allows everything",
		"policies[3]", "max", "policies[4]", "must evaluate to a bool", "policies[5]", "policies[6]", "server_error"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "policies[7]") {
		t.Errorf("a good spec was reported: %v", err)
	}
}

func TestMaxClientsStoreDown(t *testing.T) {
	down := func(context.Context, string, string, int) (int, error) {
		return 0, errors.New("ldap: connection refused")
	}
	chain, err := Build([]Spec{{Kind: KindMaxClientsPerOwner, Max: 5}}, WithOwnerCounter(down))
	if err != nil {
		t.Fatal(err)
	}
	err = chain.Check(context.Background(), Request{Operation: "register", Principal: developer, Metadata: webMetadata()})
	if !errors.Is(err, oauth.ErrTemporarilyUnavailable) {
		t.Fatalf("err = %v, want temporarily_unavailable", err)
	}
}

func BenchmarkCELRule(b *testing.B) {
	chain, err := Build([]Spec{{Kind: KindCEL, Expression: `!("client_credentials" in metadata.grant_types) || "dcr:admin" in principal.scopes`}})
	if err != nil {
		b.Fatal(err)
	}
	r := Request{Operation: "register", Principal: developer, Metadata: webMetadata()}
	for b.Loop() {
		if err := chain.Check(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
}
