package iat_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/iat"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// fakeAS is a real RFC 7662 introspection endpoint written for the tests:
// it knows some tokens, checks dcrgate's client authentication with check,
// and records what it was sent.
type fakeAS struct {
	mu     sync.Mutex
	tokens map[string]map[string]any // token → response when active
	check  func(r *http.Request) bool
	forms  []url.Values
}

func newFakeAS() *fakeAS { return &fakeAS{tokens: map[string]map[string]any{}} }

func (a *fakeAS) issue(token string, claims map[string]any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	resp := map[string]any{"active": true, "iss": testIssuer, "sub": "svc-1", "client_id": "svc-1",
		"scope": "dcr", "exp": time.Now().Add(time.Hour).Unix()}
	for k, v := range claims {
		if v == nil {
			delete(resp, k)
			continue
		}
		resp[k] = v
	}
	a.tokens[token] = resp
}

func (a *fakeAS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	a.forms = append(a.forms, r.PostForm)
	resp, ok := a.tokens[r.PostForm.Get("token")]
	check := a.check
	a.mu.Unlock()
	if check != nil && !check(r) {
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	}
	if !ok {
		resp = map[string]any{"active": false}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func newIntrospector(t testing.TB, cfg iat.IntrospectionConfig) *iat.IntrospectionValidator {
	t.Helper()
	if cfg.Issuer == "" {
		cfg.Issuer = testIssuer
	}
	if cfg.Auth.Method == "" {
		cfg.Auth = iat.ClientAuth{Method: iat.AuthClientSecretBasic, ClientID: "dcrgate", ClientSecret: "s3cret"}
	}
	v, err := iat.NewIntrospectionValidator(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestIntrospectionValidate(t *testing.T) {
	as := newFakeAS()
	srv := serveJWKS(t, as)
	now := time.Now()
	as.issue("ok", nil)
	as.issue("scp-list", map[string]any{"scope": nil, "scp": []string{"dcr", "x"}})
	as.issue("no-iss", map[string]any{"iss": nil})
	as.issue("aud", map[string]any{"aud": []string{"other", "dcrgate"}})
	as.issue("wrong-aud", map[string]any{"aud": "other"})
	as.issue("wrong-iss", map[string]any{"iss": "https://evil.test"})
	as.issue("expired", map[string]any{"exp": now.Add(-time.Hour).Unix()})
	as.issue("not-yet", map[string]any{"nbf": now.Add(time.Hour).Unix()})
	as.issue("refresh", map[string]any{"token_use": "refresh_token"})
	as.issue("exp-string", map[string]any{"exp": "soon"})
	as.issue("active-string", map[string]any{"active": "true"})
	cfg := iat.IntrospectionConfig{Endpoint: srv.URL}
	audCfg := cfg
	audCfg.Audience = []string{"dcrgate"}

	tests := []struct {
		name    string
		cfg     iat.IntrospectionConfig
		token   string
		wantErr error
		scopes  string
	}{
		{name: "ok/active", cfg: cfg, token: "ok", scopes: "dcr"},
		{name: "ok/scp list", cfg: cfg, token: "scp-list", scopes: "dcr x"},
		{name: "ok/no iss in the response", cfg: cfg, token: "no-iss", scopes: "dcr"},
		{name: "ok/audience one of several", cfg: audCfg, token: "aud", scopes: "dcr"},
		{name: "fail/unknown token", cfg: cfg, token: "nope", wantErr: iat.ErrInvalidToken},
		{name: "fail/wrong audience", cfg: audCfg, token: "wrong-aud", wantErr: iat.ErrInvalidToken},
		{name: "fail/no audience when required", cfg: audCfg, token: "ok", wantErr: iat.ErrInvalidToken},
		{name: "fail/wrong issuer", cfg: cfg, token: "wrong-iss", wantErr: iat.ErrInvalidToken},
		{name: "fail/expired though active", cfg: cfg, token: "expired", wantErr: iat.ErrInvalidToken},
		{name: "fail/not yet valid", cfg: cfg, token: "not-yet", wantErr: iat.ErrInvalidToken},
		{name: "fail/refresh token", cfg: cfg, token: "refresh", wantErr: iat.ErrInvalidToken},
		{name: "fail/exp not a number", cfg: cfg, token: "exp-string", wantErr: iat.ErrInvalidToken},
		{name: "fail/active not a boolean", cfg: cfg, token: "active-string", wantErr: iat.ErrInvalidToken},
		{name: "fail/empty", cfg: cfg, token: "", wantErr: iat.ErrInvalidToken},
		{name: "fail/too large", cfg: cfg, token: strings.Repeat("t", 20000), wantErr: iat.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := newIntrospector(t, tt.cfg).Validate(t.Context(), tt.token)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Validate() error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				checkNoToken(t, err, tt.token)
				return
			}
			if p.Issuer != testIssuer || p.Subject != "svc-1" || strings.Join(p.Scopes, " ") != tt.scopes ||
				p.Method != iat.MethodIntrospection || p.TokenID != iat.TokenHash(tt.token) {
				t.Errorf("principal = %+v", p)
			}
		})
	}
}

func TestIntrospectionClientAuth(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	priv, alg, err := iat.LoadPrivateKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), "k1", "")
	if err != nil || alg != "ES256" {
		t.Fatalf("LoadPrivateKey() = %v, %q", err, alg)
	}
	tests := []struct {
		name  string
		auth  iat.ClientAuth
		check func(r *http.Request) bool
		ok    bool
	}{
		{name: "ok/basic, escaped", auth: iat.ClientAuth{Method: iat.AuthClientSecretBasic, ClientID: "dcr gate", ClientSecret: "a:b&c"},
			check: func(r *http.Request) bool {
				id, s, ok := r.BasicAuth()
				return ok && id == "dcr+gate" && s == "a%3Ab%26c"
			}, ok: true},
		{name: "ok/post", auth: iat.ClientAuth{Method: iat.AuthClientSecretPost, ClientID: "dcrgate", ClientSecret: "s"},
			check: func(r *http.Request) bool {
				return r.PostForm.Get("client_id") == "dcrgate" && r.PostForm.Get("client_secret") == "s"
			}, ok: true},
		{name: "ok/private_key_jwt", auth: iat.ClientAuth{Method: iat.AuthPrivateKeyJWT, ClientID: "dcrgate", PrivateKey: priv, Algorithm: alg},
			check: assertionFrom(t, &key.PublicKey, "dcrgate"), ok: true},
		{name: "ok/none", auth: iat.ClientAuth{Method: iat.AuthNone},
			check: func(r *http.Request) bool {
				_, _, basic := r.BasicAuth()
				return !basic && !r.PostForm.Has("client_id")
			}, ok: true},
		{name: "fail/rejected credentials are unavailability, not a bad token",
			auth:  iat.ClientAuth{Method: iat.AuthClientSecretBasic, ClientID: "dcrgate", ClientSecret: "wrong"},
			check: func(*http.Request) bool { return false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := newFakeAS()
			as.issue("tok", nil)
			as.check = tt.check
			srv := serveJWKS(t, as)
			cfg := iat.IntrospectionConfig{Endpoint: srv.URL + "/introspect", Auth: tt.auth}
			_, err := newIntrospector(t, cfg).Validate(t.Context(), "tok")
			if tt.ok != (err == nil) || (err != nil && !errors.Is(err, iat.ErrUnavailable)) {
				t.Fatalf("Validate() error = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// assertionFrom checks an RFC 7523 client assertion with the public key.
func assertionFrom(t *testing.T, pub *ecdsa.PublicKey, clientID string) func(r *http.Request) bool {
	return func(r *http.Request) bool {
		f := r.PostForm
		payload, err := jws.Verify([]byte(f.Get("client_assertion")), jws.WithKey(jwa.ES256(), pub))
		if err != nil || f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			t.Errorf("assertion: %v", err)
			return false
		}
		var c map[string]any
		_ = json.Unmarshal(payload, &c)
		want := "http://" + r.Host + r.URL.Path
		return c["iss"] == clientID && c["sub"] == clientID && c["aud"] == want && c["jti"] != nil && c["exp"] != nil
	}
}

func TestIntrospectionUnavailable(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		url     func(t *testing.T) string
	}{
		{name: "fail/slow", handler: func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body) // so the server notices the client leave
			<-r.Context().Done()
		}},
		{name: "fail/500", handler: func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }},
		{name: "fail/not json", handler: func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>")) }},
		{name: "fail/null", handler: func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("null")) }},
		{name: "fail/down", url: func(t *testing.T) string { return "http://" + closedAddr(t) + "/introspect" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			endpoint := ""
			if tt.url != nil {
				endpoint = tt.url(t)
			} else {
				endpoint = serveJWKS(t, tt.handler).URL
			}
			v := newIntrospector(t, iat.IntrospectionConfig{Endpoint: endpoint, Timeout: 200 * time.Millisecond})
			for range 2 { // failures are not cached
				_, err := v.Validate(t.Context(), "tok")
				if !errors.Is(err, iat.ErrUnavailable) {
					t.Fatalf("Validate() error = %v, want ErrUnavailable", err)
				}
				checkNoToken(t, err, "tok")
			}
		})
	}
}

func TestIntrospectionCache(t *testing.T) {
	as := newFakeAS()
	srv := serveJWKS(t, as)
	for i := range 3 {
		as.issue(fmt.Sprint("tok", i), nil)
	}
	as.issue("short", map[string]any{"exp": time.Now().Add(-time.Second).Unix()}) // active, expired within skew
	v := newIntrospector(t, iat.IntrospectionConfig{Endpoint: srv.URL, CacheSize: 2, ClockSkew: 30 * time.Second})
	calls := func() int64 { return srv.hits.Load() }

	mustValidate(t, v, "tok0")
	mustValidate(t, v, "tok0")
	if calls() != 1 {
		t.Fatalf("second validation introspected again: %d calls", calls())
	}
	if _, err := v.Validate(t.Context(), "dead"); !errors.Is(err, iat.ErrInvalidToken) {
		t.Fatal(err)
	}
	if _, err := v.Validate(t.Context(), "dead"); !errors.Is(err, iat.ErrInvalidToken) || calls() != 2 {
		t.Fatalf("inactive answer not cached: %v, %d calls", err, calls())
	}
	// tok0 was evicted by "dead" and tok1 (size 2, least recently used).
	mustValidate(t, v, "tok1")
	mustValidate(t, v, "tok0")
	if calls() != 4 {
		t.Fatalf("calls = %d, want 4 (tok0 evicted)", calls())
	}
	// An answer is never cached past the token's exp.
	mustValidate(t, v, "short")
	mustValidate(t, v, "short")
	if calls() != 6 {
		t.Fatalf("calls = %d, want 6 (expired answers are not reused)", calls())
	}
	for _, f := range as.forms {
		if f.Get("token_type_hint") != "access_token" {
			t.Errorf("form = %v", f)
		}
	}
}

func TestNewIntrospectionValidatorConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  iat.IntrospectionConfig
		msg  string
	}{
		{name: "fail/no endpoint", cfg: iat.IntrospectionConfig{Issuer: testIssuer, Auth: iat.ClientAuth{Method: iat.AuthNone}}, msg: "introspection endpoint"},
		{name: "fail/basic without secret", cfg: iat.IntrospectionConfig{Issuer: testIssuer, Endpoint: "https://as/i",
			Auth: iat.ClientAuth{Method: iat.AuthClientSecretBasic, ClientID: "x"}}, msg: "needs a client ID and a secret"},
		{name: "fail/unknown method", cfg: iat.IntrospectionConfig{Issuer: testIssuer, Endpoint: "https://as/i",
			Auth: iat.ClientAuth{Method: "tls_client_auth"}}, msg: "not one of"},
		{name: "fail/negative ttl", cfg: iat.IntrospectionConfig{Issuer: testIssuer, Endpoint: "https://as/i",
			Auth: iat.ClientAuth{Method: iat.AuthNone}, CacheTTL: -1}, msg: "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := iat.NewIntrospectionValidator(tt.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error = %v, want %q", err, tt.msg)
			}
		})
	}
}

func TestLoadPrivateKey(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	pubDER, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	tests := []struct {
		name, alg, want string
		pem             []byte
	}{
		{name: "ok/infers ES384", pem: privPEM, want: "ES384"},
		{name: "fail/ES256 with a P-384 key", pem: privPEM, alg: "ES256"},
		{name: "fail/HS256", pem: privPEM, alg: "HS256"},
		{name: "fail/public key", pem: pubPEM},
		{name: "fail/not PEM", pem: []byte("hello")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, alg, err := iat.LoadPrivateKey(tt.pem, "", tt.alg)
			if (err == nil) != (tt.want != "") || alg != tt.want {
				t.Fatalf("LoadPrivateKey() = %q, %v; want %q", alg, err, tt.want)
			}
			if err == nil {
				if kid, _ := k.KeyID(); kid == "" {
					t.Error("no kid")
				}
				var _ jwk.Key = k
			}
		})
	}
}

func BenchmarkIntrospectionCached(b *testing.B) {
	as := newFakeAS()
	as.issue("tok", nil)
	v := newIntrospector(b, iat.IntrospectionConfig{Endpoint: serveJWKS(b, as).URL})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Validate(b.Context(), "tok"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIntrospectionUncached(b *testing.B) {
	as := newFakeAS()
	as.issue("tok", nil)
	// A cache of one entry and two alternating tokens: every call goes to
	// the (loopback) endpoint.
	as.issue("tok2", nil)
	v := newIntrospector(b, iat.IntrospectionConfig{Endpoint: serveJWKS(b, as).URL, CacheSize: 1})
	toks := []string{"tok", "tok2"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := v.Validate(b.Context(), toks[i%2]); err != nil {
			b.Fatal(err)
		}
	}
}
