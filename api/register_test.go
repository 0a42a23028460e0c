package api_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/iat/devissuer"
)

func TestRegisterConfidentialClient(t *testing.T) {
	h := newHarness(t)
	res := h.register(`{"redirect_uris":["https://app.example.com/cb"],"client_name":"Web App",
		"client_name#fr":"Appli Web","tenant":"acme","unknown_member":"dropped","scope":"openid profile"}`)

	id := res.str("client_id")
	if !regexp.MustCompile(`^[a-z0-9_-]{1,64}$`).MatchString(id) {
		t.Fatalf("client_id %q is not lowercase URL-safe", id)
	}
	if len(res.str("client_secret")) < 43 {
		t.Fatalf("client_secret %q is shorter than 256 bits", res.str("client_secret"))
	}
	if res.json["client_secret_expires_at"] != float64(0) {
		t.Fatalf("client_secret_expires_at = %v, want 0", res.json["client_secret_expires_at"])
	}
	issuedAt, _ := res.json["client_id_issued_at"].(float64)
	if time.Since(time.Unix(int64(issuedAt), 0)) > time.Minute {
		t.Fatalf("client_id_issued_at = %v", res.json["client_id_issued_at"])
	}
	if len(res.str("registration_access_token")) < 43 {
		t.Fatalf("registration_access_token %q", res.str("registration_access_token"))
	}
	if got, want := res.str("registration_client_uri"), externalURL+endpoint+"/"+id; got != want {
		t.Fatalf("registration_client_uri = %q, want %q", got, want)
	}
	wantMembers := map[string]any{
		"client_name": "Web App", "client_name#fr": "Appli Web", "tenant": "acme", "scope": "openid profile",
		"token_endpoint_auth_method": "client_secret_basic", "application_type": "web",
	}
	for k, v := range wantMembers {
		if res.json[k] != v {
			t.Errorf("%s = %v, want %v", k, res.json[k], v)
		}
	}
	if g := res.json["grant_types"]; len(g.([]any)) != 1 || g.([]any)[0] != "authorization_code" {
		t.Errorf("grant_types default = %v", g)
	}
	if _, ok := res.json["unknown_member"]; ok {
		t.Error("an unknown member was echoed")
	}
	stored, err := h.store.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored.CurrentSecret(), res.str("client_secret")) ||
		stored.RegistrationTokenHash == res.str("registration_access_token") {
		t.Fatal("a clear-text credential reached the store")
	}
	if ok, _ := h.hasher.Verify(res.str("client_secret"), stored.CurrentSecret()); !ok {
		t.Fatal("stored hash does not verify the issued secret")
	}
	if stored.Owner.Subject != "developer-1" || stored.Owner.Issuer != "https://as.example.com" {
		t.Fatalf("owner = %+v", stored.Owner)
	}
}

func TestRegisterPublicClient(t *testing.T) {
	h := newHarness(t)
	res := h.register(`{"redirect_uris":["http://127.0.0.1:33418/callback"],"token_endpoint_auth_method":"none",
		"grant_types":["authorization_code","refresh_token"],"client_name":"MCP Inspector"}`)
	for _, absent := range []string{"client_secret", "client_secret_expires_at"} {
		if _, ok := res.json[absent]; ok {
			t.Errorf("public client response has %s", absent)
		}
	}
}

// TestRegisterRejects covers the bad inputs: each must be an RFC 7591 §3.2.2
// error naming what is wrong, and none may store anything.
func TestRegisterRejects(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		status                  int
		code, mentions          string
	}{
		{"fail/malformed json", "application/json", `{"redirect_uris":`, 400, "invalid_client_metadata", "JSON"},
		{"fail/array body", "application/json", `[]`, 400, "invalid_client_metadata", "object"},
		{"fail/null body", "application/json", `null`, 400, "invalid_client_metadata", "object"},
		{"fail/empty body", "application/json", ``, 400, "invalid_client_metadata", ""},
		{"fail/form body", "application/x-www-form-urlencoded", `redirect_uris=x`, 400, "invalid_client_metadata", "application/json"},
		{"fail/no content type", "", webClient, 400, "invalid_client_metadata", "application/json"},
		{"fail/redirect_uris wrong type", "application/json", `{"redirect_uris":"https://a.example/cb"}`, 400, "invalid_client_metadata", "redirect_uris"},
		{"fail/client_name wrong type", "application/json", `{"redirect_uris":["https://a.example/cb"],"client_name":7}`, 400, "invalid_client_metadata", "client_name"},
		{"fail/extension wrong type", "application/json", `{"redirect_uris":["https://a.example/cb"],"tenant":["x"]}`, 400, "invalid_client_metadata", "tenant"},
		{"fail/fragment", "application/json", `{"redirect_uris":["https://a.example/cb#x"]}`, 400, "invalid_redirect_uri", "fragment"},
		{"fail/relative redirect", "application/json", `{"redirect_uris":["/cb"]}`, 400, "invalid_redirect_uri", "redirect_uris[0] must be an absolute URI"},
		{"fail/http non-loopback web", "application/json", `{"redirect_uris":["http://app.example.com/cb"]}`, 400, "invalid_redirect_uri", "loopback"},
		{"fail/whitespace", "application/json", `{"redirect_uris":[" https://a.example/cb"]}`, 400, "invalid_redirect_uri", "whitespace"},
		{"fail/missing redirect", "application/json", `{"client_name":"x"}`, 400, "invalid_redirect_uri", "redirect_uris"},
		{"fail/too many redirects", "application/json", `{"redirect_uris":["https://a.example/1","https://a.example/2","https://a.example/3","https://a.example/4","https://a.example/5","https://a.example/6"]}`, 400, "invalid_redirect_uri", "at most 5"},
		{"fail/client_secret_jwt", "application/json", `{"redirect_uris":["https://a.example/cb"],"token_endpoint_auth_method":"client_secret_jwt"}`, 400, "invalid_client_metadata", "client_secret_jwt"},
		{"fail/unknown auth method", "application/json", `{"redirect_uris":["https://a.example/cb"],"token_endpoint_auth_method":"magic"}`, 400, "invalid_client_metadata", "token_endpoint_auth_method"},
		{"fail/jwks and jwks_uri", "application/json", `{"redirect_uris":["https://a.example/cb"],"jwks_uri":"https://a.example/jwks","jwks":{"keys":[]}}`, 400, "invalid_client_metadata", "jwks"},
		{"fail/private_key_jwt without keys", "application/json", `{"redirect_uris":["https://a.example/cb"],"token_endpoint_auth_method":"private_key_jwt"}`, 400, "invalid_client_metadata", "jwks"},
		{"fail/code without authorization_code", "application/json", `{"redirect_uris":["https://a.example/cb"],"grant_types":["client_credentials"],"response_types":["code"]}`, 400, "invalid_client_metadata", "response_types"},
		{"fail/relative logo_uri", "application/json", `{"redirect_uris":["https://a.example/cb"],"logo_uri":"logo.png"}`, 400, "invalid_client_metadata", "logo_uri"},
		{"fail/too long value", "application/json", `{"redirect_uris":["https://a.example/cb"],"client_name":"` + strings.Repeat("x", 3000) + `"}`, 400, "invalid_client_metadata", "client_name"},
		{"fail/too large body", "application/json", `{"client_name":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "invalid_request", "exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			res := h.do(http.MethodPost, endpoint, h.token("dcr"), tt.body, "Content-Type", tt.contentType)
			wantError(t, res, tt.status, tt.code, tt.mentions)
			if n := h.stored(t); n != 0 {
				t.Fatalf("a refused registration stored %d clients", n)
			}
		})
	}
}

// TestRegisterAcceptsRedirectRules covers the good side of the redirect rules.
func TestRegisterAcceptsRedirectRules(t *testing.T) {
	tests := []struct{ name, body string }{
		{"ok/web https", `{"redirect_uris":["https://app.example.com/cb"]}`},
		{"ok/web loopback ip", `{"redirect_uris":["http://127.0.0.1:8080/cb"]}`},
		{"ok/web localhost", `{"redirect_uris":["http://localhost:6274/oauth/callback"]}`},
		{"ok/web ipv6 loopback", `{"redirect_uris":["http://[::1]/cb"]}`},
		{"ok/native private-use scheme", `{"application_type":"native","redirect_uris":["com.example.app:/oauth2redirect"]}`},
		{"ok/native loopback", `{"application_type":"native","redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none"}`},
		{"ok/client credentials only", `{"grant_types":["client_credentials"],"response_types":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			newHarness(t).register(tt.body)
		})
	}
}

func TestInitialAccessToken(t *testing.T) {
	h := newHarness(t)
	expired, _ := h.issuer.Mint("developer-1", []string{"dcr"}, time.Hour, devissuer.WithExpiry(time.Now().Add(-time.Hour)))
	other, _ := devissuer.New("https://evil.example.com")
	foreign, _ := other.Mint("developer-1", []string{"dcr"}, time.Hour)
	tests := []struct {
		name, token string
		status      int
		challenge   string
	}{
		{"fail/no token", "", 401, `Bearer realm="dcrgate"`},
		{"fail/garbage", "not-a-jwt", 401, `Bearer realm="dcrgate", error="invalid_token"`},
		{"fail/expired", expired, 401, `Bearer realm="dcrgate", error="invalid_token"`},
		{"fail/other issuer", foreign, 401, `Bearer realm="dcrgate", error="invalid_token"`},
		{"fail/no scope", h.token("openid"), 403, `Bearer realm="dcrgate", error="insufficient_scope"`},
		{"ok/first scope of group", h.token("dcr"), 201, ""},
		{"ok/second scope of group", h.token("openid", "dcr:admin"), 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.do(http.MethodPost, endpoint, tt.token, webClient)
			if res.Code != tt.status {
				t.Fatalf("status %d %s, want %d", res.Code, res.Body, tt.status)
			}
			if got := res.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Fatalf("WWW-Authenticate = %q, want %q", got, tt.challenge)
			}
		})
	}
}

func TestOpenRegistration(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.opts.RequireInitialAccessToken = false })
	res := h.do(http.MethodPost, endpoint, "", webClient)
	if res.Code != http.StatusCreated {
		t.Fatalf("open registration: %d %s", res.Code, res.Body)
	}
	// A token sent anyway is still checked: a bad one is not silently ignored.
	res = h.do(http.MethodPost, endpoint, "forged", webClient)
	wantError(t, res, 401, "invalid_token", "")
}

func TestRegistrationDisabled(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.api.RegistrationEnabled = false })
	res := h.do(http.MethodPost, endpoint, h.token("dcr"), webClient)
	wantError(t, res, 404, "not_found", "")
}

func TestManagementDisabledRegistration(t *testing.T) {
	h := newHarness(t, func(s *setup) {
		s.api.ManagementEnabled = false
		s.opts.Management.Enabled = false
	})
	res := h.register(webClient)
	for _, absent := range []string{"registration_access_token", "registration_client_uri"} {
		if _, ok := res.json[absent]; ok {
			t.Errorf("response has %s with management disabled", absent)
		}
	}
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		wantError(t, h.do(method, clientPath(res.str("client_id")), "anything", ""), 404, "not_found", "")
	}
}

func TestWrongMethod(t *testing.T) {
	h := newHarness(t)
	res := h.do(http.MethodPatch, endpoint, h.token("dcr"), webClient)
	if res.Code != http.StatusMethodNotAllowed {
		t.Fatalf("PATCH: %d", res.Code)
	}
}
