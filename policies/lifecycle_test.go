package policies

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/iat"
)

func TestDefaultsAndApprovalSpecs(t *testing.T) {
	tests := []struct {
		name, mentions string
		spec           Spec
	}{
		{"fail/defaults without metadata", "at least one member", Spec{Kind: KindDefaults}},
		{"fail/defaults of the wrong type", "grant_types", Spec{Kind: KindDefaults, Metadata: map[string]any{"grant_types": 5}}},
		{"fail/default client_id", "client_id cannot have a default", Spec{Kind: KindDefaults, Metadata: map[string]any{"client_id": "x"}}},
		{"fail/approval expression not a bool", "bool", Spec{Kind: KindApproval, Expression: `metadata.client_name`}},
		{"fail/approval expression malformed", "expression", Spec{Kind: KindApproval, Expression: `(`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build([]Spec{tt.spec})
			if err == nil || !strings.Contains(err.Error(), tt.mentions) {
				t.Fatalf("Build = %v, want an error mentioning %q", err, tt.mentions)
			}
		})
	}
}

func TestChainDefaults(t *testing.T) {
	chain, err := Build([]Spec{
		{Kind: KindDefaults, Metadata: map[string]any{"scope": "openid", "grant_types": []string{"authorization_code"}}, Scopes: []string{"dcr:partner"}},
		{Kind: KindDefaults, Metadata: map[string]any{"scope": "openid profile", "application_type": "native", "access_token_ttl": 300}},
		{Kind: KindAllowedScopes, Values: []string{"openid", "profile"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	developer := &iat.Principal{Issuer: "https://as.example.com", Scopes: []string{"dcr"}}
	partner := &iat.Principal{Issuer: "https://as.example.com", Scopes: []string{"dcr", "dcr:partner"}}
	for _, tt := range []struct {
		name string
		r    Request
		want string
	}{
		{"ok/unselected policy skipped", Request{Principal: developer}, `{"access_token_ttl":300,"application_type":"native","scope":"openid profile"}`},
		{"ok/first policy wins", Request{Principal: partner}, `{"access_token_ttl":300,"application_type":"native","grant_types":["authorization_code"],"scope":"openid"}`},
		{"ok/open registration gets the unscoped ones", Request{}, `{"access_token_ttl":300,"application_type":"native","scope":"openid profile"}`},
		{"ok/the anonymous profile gets none of them", Request{Anonymous: true}, `{}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := json.Marshal(chain.Defaults(tt.r))
			if string(got) != tt.want {
				t.Fatalf("Defaults = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestChainApproval(t *testing.T) {
	chain, err := Build([]Spec{
		{Name: "machines", Kind: KindApproval, Expression: `"client_credentials" in metadata.grant_types`},
		{Name: "strangers", Kind: KindApproval, Issuers: []string{"https://partner.example.com"}},
		{Name: "broken", Kind: KindApproval, Expression: `metadata.no_such_member == "x"`, Scopes: []string{"dcr:odd"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	web := &client.Metadata{GrantTypes: []string{"authorization_code"}}
	machine := &client.Metadata{GrantTypes: []string{"client_credentials"}}
	ours := &iat.Principal{Issuer: "https://as.example.com", Scopes: []string{"dcr"}}
	partner := &iat.Principal{Issuer: "https://partner.example.com", Scopes: []string{"dcr"}}
	odd := &iat.Principal{Issuer: "https://as.example.com", Scopes: []string{"dcr:odd"}}
	for _, tt := range []struct {
		name string
		r    Request
		want string
	}{
		{"ok/web client of ours goes through", Request{Operation: "register", Principal: ours, Metadata: web}, ""},
		{"ok/machine client waits", Request{Operation: "register", Principal: ours, Metadata: machine}, "machines"},
		{"ok/partner's client waits", Request{Operation: "register", Principal: partner, Metadata: web}, "strangers"},
		{"ok/an expression that fails asks for approval", Request{Operation: "register", Principal: odd, Metadata: web}, "broken"},
		{"ok/updates are never held", Request{Operation: "update", Principal: ours, Metadata: machine}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := chain.Approval(t.Context(), tt.r); got != tt.want {
				t.Fatalf("Approval = %q, want %q", got, tt.want)
			}
		})
	}
}
