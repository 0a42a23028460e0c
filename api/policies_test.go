package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/dcrgate/dcrgate/policies"
)

// TestRegistrationPolicies runs a configured chain through the whole stack:
// a refusal is an RFC 7591 error naming the policy, on register and update.
func TestRegistrationPolicies(t *testing.T) {
	chain, err := policies.Build([]policies.Spec{
		{Name: "trusted-hosts", Kind: policies.KindRedirectURIHosts, Values: []string{"*.example.com", "127.0.0.1"}},
		{Name: "admins-only-machines", Kind: policies.KindCEL, Error: "access_denied",
			Expression: `!("client_credentials" in metadata.grant_types) || "dcr:admin" in principal.scopes`},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(s *setup) { s.policy = chain })

	wantError(t, h.do(http.MethodPost, endpoint, h.token("dcr"), `{"redirect_uris":["https://evil.example.net/cb"]}`),
		400, "invalid_redirect_uri", "policy trusted-hosts")
	machine := `{"grant_types":["client_credentials"],"response_types":[]}`
	wantError(t, h.do(http.MethodPost, endpoint, h.token("dcr"), machine), 403, "access_denied", "policy admins-only-machines")
	if res := h.do(http.MethodPost, endpoint, h.token("dcr", "dcr:admin"), machine); res.Code != http.StatusCreated {
		t.Fatalf("admin registration refused: %d %s", res.Code, res.Body)
	}

	c := h.registerClient(webClient)
	update := fmt.Sprintf(`{"client_id":%q,"redirect_uris":["https://evil.example.net/cb"]}`, c.id)
	wantError(t, h.do(http.MethodPut, clientPath(c.id), c.token, update), 400, "invalid_redirect_uri", "policy trusted-hosts")
	if res := h.do(http.MethodGet, clientPath(c.id), c.token, ""); res.Code != http.StatusOK {
		t.Fatalf("a refused update changed the client: %d", res.Code)
	}
}
