package e2e

import (
	"net/http"
	"testing"

	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
)

// TestOpenRegistration: the anonymous profile, its rate limit and CORS,
// switched on from the environment, through the binary on slapd: a public
// native client registers without a token, a confidential one is refused,
// the third anonymous registration from one address in a minute gets 429,
// tokened registration is untouched, and a page of the allowed origin may
// call while another's preflight gets no CORS headers.
func TestOpenRegistration(t *testing.T) {
	srv := slapdtest.Start(t)
	issuer := newIssuer(t)
	const origin = "https://host.example"
	gw := startServe(t, srv, issuer,
		"DCRGATE_REGISTRATION_ANONYMOUS_ENABLED=true",
		"DCRGATE_RATE_LIMITS_ANONYMOUS_PER_IP_PER_MINUTE=1",
		"DCRGATE_RATE_LIMITS_ANONYMOUS_PER_IP_BURST=2",
		"DCRGATE_CORS_ALLOWED_ORIGINS="+origin)

	public := map[string]any{"redirect_uris": []string{"http://127.0.0.1:33418/callback"}, "token_endpoint_auth_method": "none",
		"grant_types": []string{"authorization_code", "refresh_token"}, "client_name": "An MCP client"}
	reg := call(t, "POST", gw.endpoint, "", public)
	wantStatus(t, "anonymous public client", reg, 201)
	if reg.str("client_secret") != "" || reg.str("client_id") == "" {
		t.Fatalf("anonymous registration answered %v", reg.body)
	}
	confidential := map[string]any{"redirect_uris": []string{"http://127.0.0.1:33418/callback"}}
	refused := call(t, "POST", gw.endpoint, "", confidential)
	wantStatus(t, "anonymous confidential client", refused, 400)
	if refused.str("error") != "invalid_client_metadata" {
		t.Fatalf("anonymous confidential client: %v", refused.body)
	}
	limited := call(t, "POST", gw.endpoint, "", public)
	wantStatus(t, "third anonymous registration in a minute", limited, 429)
	if limited.header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	wantStatus(t, "registration with a token", call(t, "POST", gw.endpoint, issuer.mint(t, "team-a", "dcr"), confidential), 201)

	if got := preflight(t, gw.endpoint, origin); got != origin {
		t.Fatalf("preflight from %s: Access-Control-Allow-Origin %q", origin, got)
	}
	if got := preflight(t, gw.endpoint, "https://evil.example"); got != "" {
		t.Fatalf("preflight from a foreign origin: Access-Control-Allow-Origin %q", got)
	}
}

// preflight sends the OPTIONS a browser sends before a cross-origin
// registration and returns the Access-Control-Allow-Origin it got.
func preflight(t *testing.T, url, origin string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodOptions, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.Header.Get("Access-Control-Allow-Origin")
}
