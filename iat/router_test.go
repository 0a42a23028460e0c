package iat_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/iat"
	"github.com/dcrgate/dcrgate/iat/devissuer"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// recorder is a real iat.Metrics that keeps what it was told.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(s string) { r.mu.Lock(); r.events = append(r.events, s); r.mu.Unlock() }
func (r *recorder) Validation(iss, method, result string) {
	r.add("validation " + iss + " " + method + " " + result)
}
func (r *recorder) JWKSFetch(iss, result string) { r.add("jwks " + iss + " " + result) }
func (r *recorder) Introspection(iss, result string, _ time.Duration) {
	r.add("introspection " + iss + " " + result)
}
func (r *recorder) CacheLookup(iss string, hit bool) {
	r.add(map[bool]string{true: "hit ", false: "miss "}[hit] + iss)
}
func (r *recorder) has(s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e == s {
			return true
		}
	}
	return false
}

func TestRouter(t *testing.T) {
	jwtIss := newIssuer(t, testIssuer)
	introIss := newIssuer(t, "https://intro.example.test") // signs JWTs only introspection can judge
	asA, asB := newFakeAS(), newFakeAS()
	srvA, srvB := serveJWKS(t, asA), serveJWKS(t, asB)
	asA.issue("ory_at_good", map[string]any{"iss": "https://intro.example.test"})
	asB.issue("plain-good", map[string]any{"iss": "https://b.example.test"})
	introJWT := mint(t, introIss)
	asA.issue(introJWT, map[string]any{"iss": "https://intro.example.test"})
	rec := &recorder{}
	jwks := newValidator(t, iat.JWKSConfig{Issuer: testIssuer, JWKSURI: serveJWKS(t, jwtIss.JWKSHandler()).URL})
	a := newIntrospector(t, iat.IntrospectionConfig{Issuer: "https://intro.example.test", Endpoint: srvA.URL, Metrics: rec})
	b := newIntrospector(t, iat.IntrospectionConfig{Issuer: "https://b.example.test", Endpoint: srvB.URL})
	r, err := iat.NewRouter(
		[]iat.Route{{Issuer: testIssuer, Method: iat.MethodJWT, Validator: jwks},
			{Issuer: "https://intro.example.test", Method: iat.MethodIntrospection, Validator: a}},
		[]iat.OpaqueRoute{{Prefix: "", Route: iat.Route{Issuer: "https://b.example.test", Method: iat.MethodIntrospection, Validator: b}},
			{Prefix: "ory_at_", Route: iat.Route{Issuer: "https://intro.example.test", Method: iat.MethodIntrospection, Validator: a}}},
		rec)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, token, wantIss string
		sentTo               *fakeAS
	}{
		{name: "ok/JWT by JWKS", token: mint(t, jwtIss), wantIss: testIssuer},
		{name: "ok/JWT of an introspection-only issuer", token: introJWT, wantIss: "https://intro.example.test", sentTo: asA},
		{name: "ok/opaque by the longest prefix", token: "ory_at_good", wantIss: "https://intro.example.test", sentTo: asA},
		{name: "ok/opaque by the catch-all", token: "plain-good", wantIss: "https://b.example.test", sentTo: asB},
		{name: "fail/opaque of the prefixed AS is judged there only", token: "ory_at_other", sentTo: asA},
		{name: "fail/JWT of an unknown issuer is sent nowhere", token: mint(t, newIssuer(t, "https://c.example.test"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(asA.forms) + len(asB.forms)
			p, err := r.Validate(t.Context(), tt.token)
			if tt.wantIss == "" {
				if !errors.Is(err, iat.ErrInvalidToken) {
					t.Fatalf("Validate() error = %v, want ErrInvalidToken", err)
				}
			} else if err != nil || p.Issuer != tt.wantIss {
				t.Fatalf("Validate() = %q, %v; want %q", p.Issuer, err, tt.wantIss)
			}
			sent := len(asA.forms) + len(asB.forms) - before
			if want := map[bool]int{true: 1, false: 0}[tt.sentTo != nil]; sent != want {
				t.Fatalf("token sent to %d introspection endpoints, want %d", sent, want)
			}
			if tt.sentTo != nil && tt.sentTo.forms[len(tt.sentTo.forms)-1].Get("token") != tt.token {
				t.Error("token went to the wrong endpoint")
			}
		})
	}
	for _, e := range []string{"validation https://as.example.test jwt ok", "validation unknown jwt invalid",
		"validation https://intro.example.test introspection ok", "introspection https://intro.example.test ok",
		"miss https://intro.example.test"} {
		if !rec.has(e) {
			t.Errorf("metrics lack %q: %v", e, rec.events)
		}
	}
}

func TestRouterNoOpaqueRoute(t *testing.T) {
	r, err := iat.NewRouter(nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Validate(t.Context(), "opaque"); !errors.Is(err, iat.ErrInvalidToken) {
		t.Fatalf("error = %v", err)
	}
	if _, err := iat.NewRouter(nil, []iat.OpaqueRoute{{Route: iat.Route{Issuer: "a", Validator: r}}, {Route: iat.Route{Issuer: "b", Validator: r}}}, nil); err == nil {
		t.Error("two catch-all opaque routes accepted")
	}
}

func TestJWKSIssuerRules(t *testing.T) {
	iss := newIssuer(t, testIssuer)
	url := serveJWKS(t, iss.JWKSHandler()).URL
	tests := []struct {
		name   string
		cfg    iat.JWKSConfig
		opts   []devissuer.MintOption
		scopes string
		ok     bool
	}{
		{name: "ok/at+jwt required and given", cfg: iat.JWKSConfig{RequireATJWT: true}, ok: true, scopes: "dcr openid"},
		{name: "ok/ES256 among the configured algorithms", cfg: iat.JWKSConfig{Algorithms: []string{"RS256", "ES256"}}, ok: true, scopes: "dcr openid"},
		{name: "ok/configured scope claim", cfg: iat.JWKSConfig{ScopeClaim: "roles"},
			opts: []devissuer.MintOption{devissuer.WithClaim("roles", []string{"dcr"})}, ok: true, scopes: "dcr"},
		{name: "fail/at+jwt required, typ JWT", cfg: iat.JWKSConfig{RequireATJWT: true}, opts: []devissuer.MintOption{devissuer.WithType("JWT")}},
		{name: "fail/at+jwt required, no typ", cfg: iat.JWKSConfig{RequireATJWT: true}, opts: []devissuer.MintOption{devissuer.WithType("")}},
		{name: "fail/ES256 not configured", cfg: iat.JWKSConfig{Algorithms: []string{"RS256"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Issuer, cfg.JWKSURI = testIssuer, url
			token := mint(t, iss, tt.opts...)
			p, err := newValidator(t, cfg).Validate(t.Context(), token)
			if tt.ok != (err == nil) || (err != nil && !errors.Is(err, iat.ErrInvalidToken)) {
				t.Fatalf("Validate() error = %v, want ok=%v", err, tt.ok)
			}
			if err == nil && (strings.Join(p.Scopes, " ") != tt.scopes || p.TokenID == "" || p.TokenID != p.Claims["jti"]) {
				t.Errorf("principal = %+v", p)
			}
		})
	}
}

// TestJWKSMaxKeyAge: cached keys verify while the JWKS is down, but only
// until the configured age; then the answer is 503, not a stale yes.
func TestJWKSMaxKeyAge(t *testing.T) {
	iss := newIssuer(t, testIssuer)
	srv := serveJWKS(t, iss.JWKSHandler())
	rec := &recorder{}
	v := newValidator(t, iat.JWKSConfig{Issuer: testIssuer, JWKSURI: srv.URL, MaxKeyAge: 300 * time.Millisecond,
		MinRefreshInterval: time.Nanosecond, Metrics: rec})
	mustValidate(t, v, mint(t, iss))
	srv.Close()
	time.Sleep(400 * time.Millisecond)
	if _, err := v.Validate(t.Context(), mint(t, iss)); !errors.Is(err, iat.ErrUnavailable) {
		t.Fatalf("Validate() with keys past their age = %v, want ErrUnavailable", err)
	}
	if !rec.has("jwks https://as.example.test ok") || !rec.has("jwks https://as.example.test error") {
		t.Errorf("fetch metrics = %v", rec.events)
	}
}

func TestDiscovery(t *testing.T) {
	iss := newIssuer(t, testIssuer)
	jwksURL := serveJWKS(t, iss.JWKSHandler()).URL
	md := func(issuer string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			_ = json.NewEncoder(w).Encode(map[string]string{"issuer": issuer, "jwks_uri": jwksURL})
		}
	}
	tests := []struct {
		name    string
		path    string // where the metadata is served
		served  func(base string) http.HandlerFunc
		issPath string
		ok      bool
	}{
		{name: "ok/RFC 8414 with a path", path: "/.well-known/oauth-authorization-server/tenant", issPath: "/tenant",
			served: func(base string) http.HandlerFunc { return md(base + "/tenant") }, ok: true},
		{name: "ok/OpenID fallback", path: "/tenant/.well-known/openid-configuration", issPath: "/tenant",
			served: func(base string) http.HandlerFunc { return md(base + "/tenant") }, ok: true},
		{name: "fail/metadata names another issuer", path: "/.well-known/oauth-authorization-server",
			served: func(string) http.HandlerFunc { return md("https://evil.test") }},
		{name: "fail/nothing there", path: "/elsewhere", served: func(base string) http.HandlerFunc { return md(base) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			srv := serveJWKS(t, mux)
			mux.Handle(tt.path, tt.served(srv.URL))
			issuer := srv.URL + tt.issPath
			// The token's iss must be the discovered issuer.
			token := mint(t, iss, devissuer.WithClaim("iss", issuer))
			d, err := iat.NewDiscoveryValidator(t.Context(), iat.JWKSConfig{Issuer: issuer, MinRefreshInterval: time.Nanosecond}, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = d.Close() })
			_, err = d.Validate(t.Context(), token)
			if tt.ok != (err == nil) || (err != nil && !errors.Is(err, iat.ErrUnavailable)) {
				t.Fatalf("Validate() error = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestDiscoveryDownAtStart: an AS that is down when dcrgate starts is
// discovered when it comes back, without a restart.
func TestDiscoveryDownAtStart(t *testing.T) {
	iss := newIssuer(t, testIssuer)
	var up sync.Mutex
	ready := false
	mux := http.NewServeMux()
	srv := serveJWKS(t, mux)
	issuer := srv.URL
	mux.Handle("/jwks", iss.JWKSHandler())
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		up.Lock()
		defer up.Unlock()
		if !ready {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": issuer, "jwks_uri": issuer + "/jwks"})
	})
	d, err := iat.NewDiscoveryValidator(t.Context(), iat.JWKSConfig{Issuer: issuer, MinRefreshInterval: time.Nanosecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	token := mint(t, iss, devissuer.WithClaim("iss", issuer))
	if _, err := d.Validate(t.Context(), token); !errors.Is(err, iat.ErrUnavailable) {
		t.Fatalf("while down: %v, want ErrUnavailable", err)
	}
	up.Lock()
	ready = true
	up.Unlock()
	mustValidate(t, d, token)
}

func TestStatementVerifier(t *testing.T) {
	signer, other := newIssuer(t, "https://software.example.test"), newIssuer(t, "https://other.example.test")
	inline, err := jwk.Parse(jwksBody(t, signer))
	if err != nil {
		t.Fatal(err)
	}
	sv, err := iat.NewStatementVerifier(t.Context(), []iat.StatementIssuer{
		{JWKSConfig: iat.JWKSConfig{Issuer: signer.Issuer(), JWKS: inline}, Scopes: []string{"dcr", "openid", "read"}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	stmt := func(iss *devissuer.Issuer, opts ...devissuer.MintOption) string {
		return mint(t, iss, append([]devissuer.MintOption{devissuer.WithClaim("software_id", "app-1"), devissuer.WithType("")}, opts...)...)
	}
	tests := []struct {
		name    string
		stmt    string
		wantErr error
	}{
		{name: "ok/trusted", stmt: stmt(signer)},
		{name: "ok/no exp", stmt: stmt(signer, devissuer.WithClaim("exp", nil))},
		{name: "fail/untrusted issuer", stmt: stmt(other), wantErr: iat.ErrUntrustedStatement},
		{name: "fail/scope beyond what the issuer grants", stmt: stmt(signer, devissuer.WithClaim("scope", "admin")), wantErr: iat.ErrUntrustedStatement},
		{name: "fail/signed by another key", stmt: stmt(other, devissuer.WithClaim("iss", signer.Issuer())), wantErr: iat.ErrInvalidToken},
		{name: "fail/expired", stmt: stmt(signer, devissuer.WithExpiry(time.Now().Add(-time.Hour))), wantErr: iat.ErrInvalidToken},
		{name: "fail/malformed", stmt: "not.a.statement", wantErr: iat.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := sv.Verify(t.Context(), tt.stmt)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Verify() error = %v, want %v", err, tt.wantErr)
			}
			if err == nil && (st.Issuer != signer.Issuer() || st.Claims["software_id"] != "app-1") {
				t.Errorf("statement = %+v", st)
			}
		})
	}
}

func jwksBody(t *testing.T, iss *devissuer.Issuer) []byte {
	t.Helper()
	rr := httptest.NewRecorder()
	iss.JWKSHandler().ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/", nil))
	return rr.Body.Bytes()
}
