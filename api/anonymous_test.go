package api_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/policies"
	"github.com/dcrgate/dcrgate/ratelimit"
	"github.com/dcrgate/dcrgate/registration"
	"github.com/dcrgate/dcrgate/store"
)

// mcpClient is what an MCP client sends when it registers itself: a public
// native client with a loopback callback.
const mcpClient = `{"client_name":"Coding Assistant","redirect_uris":["http://127.0.0.1:33418/callback"],` +
	`"grant_types":["authorization_code","refresh_token"],"response_types":["code"],"token_endpoint_auth_method":"none"}`

// TestAnonymousProfile: without an initial access token, the anonymous
// profile admits public clients using the authorization code grant with
// redirect URIs on the caller's machine (or allowed web hosts), judged by
// the anonymous policies alone; tokened callers keep every other policy
// and everything they could register before.
func TestAnonymousProfile(t *testing.T) {
	onEveryBackend(t, func(t *testing.T, newStore func(t *testing.T) store.Store) {
		chain, err := policies.Build([]policies.Spec{
			{Name: "trusted-hosts", Kind: policies.KindRedirectURIHosts, Values: []string{"*.example.com"}},
			{Name: "anonymous-scopes", Kind: policies.KindAllowedScopes, Values: []string{"openid", "mcp:tools"}, Anonymous: true},
		})
		if err != nil {
			t.Fatal(err)
		}
		h := newHarness(t, func(s *setup) {
			s.store, s.policy = newStore(t), chain
			s.opts.Anonymous = registration.Anonymous{Enabled: true, ClientLifetime: 7 * 24 * time.Hour,
				WebRedirectHosts: []string{"mcp.example.org"}}
		})
		for _, tt := range []struct {
			name, body string
			status     int
			code       string
		}{
			{"ok/native loopback client", mcpClient, 201, ""},
			{"ok/private-use scheme", `{"redirect_uris":["com.example.assistant:/callback"],"application_type":"native","token_endpoint_auth_method":"none"}`, 201, ""},
			{"ok/an allowed web host", `{"redirect_uris":["https://mcp.example.org/cb"],"token_endpoint_auth_method":"none"}`, 201, ""},
			{"ok/scope an anonymous policy allows", `{"redirect_uris":["http://localhost:9/cb"],"token_endpoint_auth_method":"none","scope":"mcp:tools"}`, 201, ""},
			{"fail/a secret (the default auth method)", `{"redirect_uris":["http://127.0.0.1:9/cb"]}`, 400, "invalid_client_metadata"},
			{"fail/client credentials", `{"grant_types":["client_credentials"],"response_types":[],"token_endpoint_auth_method":"none"}`, 400, "invalid_client_metadata"},
			{"fail/implicit", `{"redirect_uris":["https://mcp.example.org/cb"],"grant_types":["implicit"],"response_types":["token"],"token_endpoint_auth_method":"none"}`, 400, "invalid_client_metadata"},
			{"fail/a web host nobody allowed", `{"redirect_uris":["https://app.example.com/cb"],"token_endpoint_auth_method":"none"}`, 400, "invalid_redirect_uri"},
			{"fail/scope the anonymous policy refuses", `{"redirect_uris":["http://localhost:9/cb"],"token_endpoint_auth_method":"none","scope":"admin"}`, 400, "invalid_client_metadata"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				res := h.do(http.MethodPost, endpoint, "", tt.body)
				if res.Code != tt.status || res.str("error") != tt.code {
					t.Fatalf("got %d %s, want %d %s", res.Code, res.Body, tt.status, tt.code)
				}
			})
		}
		// A tokened caller is judged as before: a confidential web client on
		// a trusted host, and the trusted-hosts policy, not the profile.
		if res := h.do(http.MethodPost, endpoint, h.token("dcr"), webClient); res.Code != http.StatusCreated {
			t.Fatalf("a tokened web client: %d %s", res.Code, res.Body)
		}
		wantError(t, h.do(http.MethodPost, endpoint, h.token("dcr"), mcpClient), 400, "invalid_redirect_uri", "policy trusted-hosts")

		// An anonymous client lives a week unless used, and stays in its
		// profile: no update can make it confidential.
		res := h.register(mcpClient, "")
		id, token := res.str("client_id"), res.str("registration_access_token")
		if r, err := h.store.Get(t.Context(), id); err != nil || !r.ExpiresAt.Equal(h.now.Add(7*24*time.Hour).Truncate(time.Second)) {
			t.Fatalf("stored %v (%v), want the anonymous lifetime", r.ExpiresAt, err)
		}
		wantError(t, h.do(http.MethodPut, clientPath(id), token,
			fmt.Sprintf(`{"client_id":%q,"redirect_uris":["http://127.0.0.1:33418/callback"],"token_endpoint_auth_method":"client_secret_basic"}`, id)),
			400, "invalid_client_metadata", "public client")
	})
}

// TestAnonymousNeedsTheProfile: with the profile off, a registration
// without a token is refused as before.
func TestAnonymousNeedsTheProfile(t *testing.T) {
	h := newHarness(t)
	wantError(t, h.do(http.MethodPost, endpoint, "", mcpClient), 401, "invalid_token", "")
}

// TestRateLimits: 429 with Retry-After once a caller's bucket is empty —
// per address, separately for registration with a token, without one, and
// management; per token owner — and a token again once one is due.
func TestRateLimits(t *testing.T) {
	perMinute6 := ratelimit.Limit{PerMinute: 6, Burst: 2} // a token every 10 s
	h := newHarness(t, func(s *setup) {
		s.opts.Anonymous.Enabled = true
		s.opts.RateLimits = registration.RateLimits{RegistrationPerIP: perMinute6, AnonymousPerIP: perMinute6,
			ManagementPerIP: perMinute6, RegistrationPerOwner: ratelimit.Limit{PerMinute: 6, Burst: 1}}
	})
	limited := func(what string, call func() response) {
		t.Helper()
		res := call()
		wantError(t, res, http.StatusTooManyRequests, "slow_down", "retry in")
		if res.Header().Get("Retry-After") != "10" {
			t.Fatalf("%s: Retry-After %q, want 10", what, res.Header().Get("Retry-After"))
		}
	}
	c := h.registerClient(webClient)
	h.now = h.now.Add(time.Minute) // refill
	for range 2 {
		h.register(mcpClient, "")
	}
	limited("anonymous", func() response { return h.do(http.MethodPost, endpoint, "", mcpClient) })
	h.register(webClient) // the tokened bucket is another one
	tok := h.token("dcr")
	limited("per owner", func() response { return h.do(http.MethodPost, endpoint, tok, webClient) })

	for range 2 {
		h.do(http.MethodGet, clientPath(c.id), "guessed", "")
	}
	limited("management", func() response { return h.do(http.MethodGet, clientPath(c.id), c.token, "") })
	h.now = h.now.Add(10 * time.Second)
	if res := h.do(http.MethodGet, clientPath(c.id), c.token, ""); res.Code != http.StatusOK {
		t.Fatalf("once a token is due: %d %s", res.Code, res.Body)
	}
}
