package api_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/iat"
	"github.com/dcrgate/dcrgate/iat/devissuer"
	"github.com/dcrgate/dcrgate/store"
)

const opaqueIssuer = "https://opaque.example.com"

// introspectionAS is an RFC 7662 endpoint written for these tests: it knows
// the tokens it issued and demands dcrgate's client credentials.
type introspectionAS struct {
	mu     sync.Mutex
	active map[string]string // token → scope
	calls  int
}

func (a *introspectionAS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok || id != "dcrgate" || secret != "s3cret" || r.ParseForm() != nil {
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	}
	a.mu.Lock()
	a.calls++
	scope, active := a.active[r.PostForm.Get("token")]
	a.mu.Unlock()
	resp := map[string]any{"active": active}
	if active {
		resp = map[string]any{"active": true, "iss": opaqueIssuer, "sub": "svc-7", "client_id": "svc-7",
			"scope": scope, "exp": time.Now().Add(time.Hour).Unix()}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// withRouter routes JWTs of the development issuer to its JWKS and opaque
// tokens to endpoint, as cmd/dcrgate wires a mixed configuration.
func withRouter(t *testing.T, endpoint string) func(*setup) {
	return func(s *setup) {
		s.tokens = func(dev iat.Validator) iat.Validator {
			intro, err := iat.NewIntrospectionValidator(iat.IntrospectionConfig{Issuer: opaqueIssuer, Endpoint: endpoint,
				Timeout: 300 * time.Millisecond, Auth: iat.ClientAuth{Method: iat.AuthClientSecretBasic, ClientID: "dcrgate", ClientSecret: "s3cret"}},
				slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			r, err := iat.NewRouter([]iat.Route{{Issuer: "https://as.example.com", Method: iat.MethodJWT, Validator: dev}},
				[]iat.OpaqueRoute{{Route: iat.Route{Issuer: opaqueIssuer, Method: iat.MethodIntrospection, Validator: intro}}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
}

func TestOpaqueTokens(t *testing.T) {
	as := &introspectionAS{active: map[string]string{"opaque-dcr": "dcr", "opaque-read": "read"}}
	srv := httptest.NewServer(as)
	t.Cleanup(srv.Close)
	h := newHarness(t, withRouter(t, srv.URL))

	res := h.do(http.MethodPost, endpoint, "opaque-dcr", webClient)
	if res.Code != http.StatusCreated {
		t.Fatalf("register with an opaque token: %d %s", res.Code, res.Body)
	}
	rec, err := h.store.Get(t.Context(), res.str("client_id"))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Owner.Issuer != opaqueIssuer || rec.Owner.Subject != "svc-7" || rec.Owner.TokenID != iat.TokenHash("opaque-dcr") {
		t.Errorf("owner = %+v, want the issuer, subject and SHA-256 of the token", rec.Owner)
	}
	h.do(http.MethodPost, endpoint, "opaque-dcr", webClient)
	if as.calls != 1 {
		t.Errorf("introspection calls = %d, want 1 (the answer is cached)", as.calls)
	}
	if res := h.do(http.MethodPost, endpoint, h.token("dcr"), webClient); res.Code != http.StatusCreated {
		t.Errorf("JWT beside opaque tokens: %d %s", res.Code, res.Body)
	}
	wantError(t, h.do(http.MethodPost, endpoint, "opaque-read", webClient), http.StatusForbidden, "insufficient_scope", "dcr")
	wantError(t, h.do(http.MethodPost, endpoint, "opaque-unknown", webClient), http.StatusUnauthorized, "invalid_token", "invalid or expired")
}

func TestIntrospectionOutage(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	t.Cleanup(slow.Close)
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "oops", http.StatusBadGateway)
	}))
	t.Cleanup(broken.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String()
	_ = l.Close()
	tests := []struct{ name, endpoint string }{
		{name: "fail/slow", endpoint: slow.URL},
		{name: "fail/down", endpoint: down},
		{name: "fail/502", endpoint: broken.URL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, withRouter(t, tt.endpoint))
			res := h.do(http.MethodPost, endpoint, "opaque-dcr", webClient)
			wantError(t, res, http.StatusServiceUnavailable, "temporarily_unavailable", "cannot be reached")
			if res.Header().Get("Retry-After") == "" {
				t.Error("no Retry-After")
			}
		})
	}
}

func TestIssuerScopeOverride(t *testing.T) {
	h := newHarness(t, func(s *setup) {
		s.opts.IssuerScopes = map[string][]string{"https://as.example.com": {"dcr:partner"}}
	})
	wantError(t, h.do(http.MethodPost, endpoint, h.token("dcr"), webClient), http.StatusForbidden, "insufficient_scope", "dcr:partner")
	if res := h.do(http.MethodPost, endpoint, h.token("dcr:partner"), webClient); res.Code != http.StatusCreated {
		t.Fatalf("token with the issuer's scope: %d %s", res.Code, res.Body)
	}
}

func TestMaxRegistrationsPerToken(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.opts.MaxRegistrationsPerToken = 2 })
	tok := h.token("dcr")
	for i := range 2 {
		if res := h.do(http.MethodPost, endpoint, tok, webClient); res.Code != http.StatusCreated {
			t.Fatalf("registration %d: %d %s", i+1, res.Code, res.Body)
		}
	}
	wantError(t, h.do(http.MethodPost, endpoint, tok, webClient), http.StatusForbidden, "access_denied", "already registered 2")
	if res := h.do(http.MethodPost, endpoint, h.token("dcr"), webClient); res.Code != http.StatusCreated {
		t.Fatalf("another token: %d %s", res.Code, res.Body)
	}
	if n := h.stored(t); n != 3 {
		t.Fatalf("store holds %d clients, want 3", n)
	}
}

// TestMaxRegistrationsPerTokenRace: concurrent registrations with one
// token never leave more than the cap in the directory.
func TestMaxRegistrationsPerTokenRace(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.opts.MaxRegistrationsPerToken = 3 })
	tok, err := h.issuer.Mint("racer", []string{"dcr"}, time.Hour, devissuer.WithClaim("jti", "one-token"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			req := httptest.NewRequest(http.MethodPost, endpoint, stringsReader(webClient))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tok)
			h.handler.ServeHTTP(httptest.NewRecorder(), req)
		})
	}
	wg.Wait()
	n, err := h.store.Count(t.Context(), store.Query{OwnerTokenID: "one-token"}, 100)
	if err != nil || n > 3 || n == 0 {
		t.Fatalf("token registered %d clients (%v), want 1..3", n, err)
	}
}
