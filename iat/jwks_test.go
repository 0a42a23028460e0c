package iat_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/iat"
	"github.com/dcrgate/dcrgate/iat/devissuer"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

const testIssuer = "https://as.example.test"

func TestJWKSValidatorValidate(t *testing.T) {
	iss := newIssuer(t, testIssuer)
	srv := serveJWKS(t, iss.JWKSHandler())
	other := newIssuer(t, testIssuer) // same name, different key
	// The skew config.DefaultClockSkew gives an issuer without clock_skew;
	// iat itself applies none (TestClockSkew).
	cfg := iat.JWKSConfig{Issuer: testIssuer, JWKSURI: srv.URL, ClockSkew: 30 * time.Second}
	audCfg := cfg
	audCfg.Audience = []string{"dcrgate", "https://dcr.example.test"}
	now := time.Now()

	tests := []struct {
		name    string
		cfg     iat.JWKSConfig
		token   func(t *testing.T) string
		wantErr error
		msg     string // in the error, when set
		check   func(t *testing.T, p iat.Principal)
	}{
		{name: "ok/scope string", cfg: cfg, token: minted(iss),
			check: wantPrincipal("alice", "alice", "dcr", "openid")},
		{name: "ok/scp array", cfg: cfg,
			token: minted(iss, devissuer.WithClaim("scope", nil), devissuer.WithClaim("scp", []string{"dcr", "admin"})),
			check: wantPrincipal("alice", "alice", "dcr", "admin")},
		{name: "ok/scp string", cfg: cfg,
			token: minted(iss, devissuer.WithClaim("scope", nil), devissuer.WithClaim("scp", "dcr admin")),
			check: wantPrincipal("alice", "alice", "dcr", "admin")},
		{name: "ok/no scope", cfg: cfg, token: minted(iss, devissuer.WithClaim("scope", nil)),
			check: wantPrincipal("alice", "alice")},
		{name: "ok/azp when no client_id", cfg: cfg,
			token: minted(iss, devissuer.WithClaim("client_id", nil), devissuer.WithClaim("azp", "app")),
			check: wantPrincipal("alice", "app", "dcr", "openid")},
		{name: "ok/client_id over azp", cfg: cfg,
			token: minted(iss, devissuer.WithClaim("client_id", "svc"), devissuer.WithClaim("azp", "app")),
			check: wantPrincipal("alice", "svc", "dcr", "openid")},
		{name: "ok/typ JWT", cfg: cfg, token: minted(iss, devissuer.WithType("JWT"))},
		{name: "ok/typ application/at+jwt", cfg: cfg, token: minted(iss, devissuer.WithType("application/at+jwt"))},
		{name: "ok/typ absent", cfg: cfg, token: minted(iss, devissuer.WithType(""))},
		{name: "ok/audience one of several", cfg: audCfg,
			token: minted(iss, devissuer.WithAudience("someone-else", "dcrgate"))},
		{name: "ok/audience string", cfg: audCfg, token: minted(iss, devissuer.WithAudience("https://dcr.example.test"))},
		{name: "ok/audience ignored when not configured", cfg: cfg, token: minted(iss, devissuer.WithAudience("x"))},
		{name: "ok/nbf in future within skew", cfg: cfg,
			token: minted(iss, devissuer.WithClaim("nbf", now.Add(10*time.Second).Unix()))},
		{name: "ok/expired within skew", cfg: cfg, token: minted(iss, devissuer.WithExpiry(now.Add(-10*time.Second)))},
		{name: "ok/claims carry private claims", cfg: cfg, token: minted(iss, devissuer.WithClaim("tenant", "acme")),
			check: func(t *testing.T, p iat.Principal) {
				if p.Claims["tenant"] != "acme" || p.Claims["jti"] == nil || p.Claims["iss"] != testIssuer {
					t.Errorf("claims = %v", p.Claims)
				}
			}},

		{name: "fail/wrong issuer", cfg: cfg, token: minted(iss, devissuer.WithClaim("iss", "https://evil.test")),
			wantErr: iat.ErrInvalidToken},
		{name: "fail/no issuer", cfg: cfg, token: minted(iss, devissuer.WithClaim("iss", nil)), wantErr: iat.ErrInvalidToken},
		{name: "fail/wrong audience", cfg: audCfg, token: minted(iss, devissuer.WithAudience("other", "api")),
			wantErr: iat.ErrInvalidToken},
		{name: "fail/no audience when required", cfg: audCfg, token: minted(iss), wantErr: iat.ErrInvalidToken},
		{name: "fail/expired", cfg: cfg, token: minted(iss, devissuer.WithExpiry(now.Add(-time.Hour))),
			wantErr: iat.ErrInvalidToken},
		{name: "fail/no exp", cfg: cfg, token: minted(iss, devissuer.WithClaim("exp", nil)), wantErr: iat.ErrInvalidToken},
		{name: "fail/exp not a number", cfg: cfg, token: minted(iss, devissuer.WithClaim("exp", "tomorrow")),
			wantErr: iat.ErrInvalidToken},
		{name: "fail/nbf in future beyond skew", cfg: cfg,
			token: minted(iss, devissuer.WithClaim("nbf", now.Add(5*time.Minute).Unix())), wantErr: iat.ErrInvalidToken},
		{name: "fail/iat in future beyond skew", cfg: cfg,
			token: minted(iss, devissuer.WithClaim("iat", now.Add(5*time.Minute).Unix())), wantErr: iat.ErrInvalidToken},
		{name: "fail/typ dpop+jwt", cfg: cfg, token: minted(iss, devissuer.WithType("dpop+jwt")), wantErr: iat.ErrInvalidToken},
		{name: "fail/scope not a string", cfg: cfg, token: minted(iss, devissuer.WithClaim("scope", []string{"dcr"})),
			wantErr: iat.ErrInvalidToken},
		{name: "fail/scp holds a number", cfg: cfg,
			token:   minted(iss, devissuer.WithClaim("scope", nil), devissuer.WithClaim("scp", []any{"dcr", 7})),
			wantErr: iat.ErrInvalidToken},
		{name: "fail/scp is a number", cfg: cfg,
			token:   minted(iss, devissuer.WithClaim("scope", nil), devissuer.WithClaim("scp", 3)),
			wantErr: iat.ErrInvalidToken},
		{name: "fail/sub not a string", cfg: cfg, token: minted(iss, devissuer.WithClaim("sub", 42)), wantErr: iat.ErrInvalidToken},
		{name: "fail/client_id not a string", cfg: cfg, token: minted(iss, devissuer.WithClaim("client_id", true)),
			wantErr: iat.ErrInvalidToken},
		{name: "fail/no kid", cfg: cfg, token: minted(iss, devissuer.WithKeyID("")), wantErr: iat.ErrInvalidToken},
		{name: "fail/other key claiming our kid", cfg: cfg, token: minted(other, devissuer.WithKeyID(iss.KeyID())),
			wantErr: iat.ErrInvalidToken},
		{name: "fail/payload swapped", cfg: cfg, token: swapPayload(iss), wantErr: iat.ErrInvalidToken},
		{name: "fail/alg none", cfg: cfg, token: algNone(iss), wantErr: iat.ErrInvalidToken, msg: `"none" is not allowed`},
		{name: "fail/HS256 with the public key as secret", cfg: cfg, token: hs256PublicKey(iss), wantErr: iat.ErrInvalidToken,
			msg: `"HS256" is not allowed`},
		{name: "fail/garbage", cfg: cfg, token: literal("not a token"), wantErr: iat.ErrInvalidToken},
		{name: "fail/empty", cfg: cfg, token: literal(""), wantErr: iat.ErrInvalidToken},
		{name: "fail/three junk segments", cfg: cfg, token: literal("a.b.c"), wantErr: iat.ErrInvalidToken},
		{name: "fail/four segments", cfg: cfg, token: literal("a.b.c.d"), wantErr: iat.ErrInvalidToken},
		{name: "fail/header not json", cfg: cfg, token: literal(b64("{{") + ".e30.c2ln"), wantErr: iat.ErrInvalidToken},
		{name: "fail/too large", cfg: cfg, token: literal(strings.Repeat("a", 20000) + ".b.c"), wantErr: iat.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newValidator(t, tt.cfg)
			token := tt.token(t)
			p, err := v.Validate(t.Context(), token)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Validate() error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				checkNoToken(t, err, token)
				if !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("Validate() error = %v, want it to say %q", err, tt.msg)
				}
				return
			}
			if p.Issuer != testIssuer {
				t.Errorf("Issuer = %q", p.Issuer)
			}
			if tt.check != nil {
				tt.check(t, p)
			}
		})
	}
}

func minted(iss *devissuer.Issuer, opts ...devissuer.MintOption) func(*testing.T) string {
	return func(t *testing.T) string { return mint(t, iss, opts...) }
}

func literal(s string) func(*testing.T) string { return func(*testing.T) string { return s } }

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func wantPrincipal(sub, clientID string, scopes ...string) func(*testing.T, iat.Principal) {
	return func(t *testing.T, p iat.Principal) {
		t.Helper()
		if p.Subject != sub || p.ClientID != clientID || !slices.Equal(p.Scopes, scopes) {
			t.Errorf("principal = %+v, want sub %q client %q scopes %q", p, sub, clientID, scopes)
		}
	}
}

// checkNoToken fails if the error text could leak the token.
func checkNoToken(t *testing.T, err error, token string) {
	t.Helper()
	parts := strings.Split(token, ".")
	sig := parts[len(parts)-1]
	if len(token) > 20 && strings.Contains(err.Error(), token) || len(sig) > 20 && strings.Contains(err.Error(), sig) {
		t.Errorf("error text contains the token: %v", err)
	}
}

// swapPayload keeps a real signature but puts another payload under it.
func swapPayload(iss *devissuer.Issuer) func(*testing.T) string {
	return func(t *testing.T) string {
		good := strings.Split(mint(t, iss), ".")
		evil := strings.Split(mint(t, iss, devissuer.WithClaim("sub", "root")), ".")
		return good[0] + "." + evil[1] + "." + good[2]
	}
}

func algNone(iss *devissuer.Issuer) func(*testing.T) string {
	return func(t *testing.T) string {
		hdr := map[string]any{"alg": "none", "typ": "at+jwt", "kid": iss.KeyID()}
		return craft(t, hdr, validClaims(testIssuer), func([]byte) []byte { return nil })
	}
}

// hs256PublicKey is the classic algorithm confusion attack (RFC 8725 §2.1):
// HMAC keyed with the issuer's public key, which anyone can fetch.
func hs256PublicKey(iss *devissuer.Issuer) func(*testing.T) string {
	return func(t *testing.T) string {
		hdr := map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": iss.KeyID()}
		return craft(t, hdr, validClaims(testIssuer), hs256(publicKeyPEM(t, iss)))
	}
}

func publicKeyPEM(t *testing.T, iss *devissuer.Issuer) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	iss.JWKSHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	set, err := jwk.Parse(rec.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	key, _ := set.LookupKeyID(iss.KeyID())
	var raw any
	if err := jwk.Export(key, &raw); err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func TestNewJWKSValidatorConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  iat.JWKSConfig
		ok   bool
	}{
		{name: "ok/minimal", cfg: iat.JWKSConfig{Issuer: testIssuer, JWKSURI: "https://as.example.test/jwks"}, ok: true},
		{name: "ok/http client given", ok: true,
			cfg: iat.JWKSConfig{Issuer: testIssuer, JWKSURI: "http://127.0.0.1:1/jwks", HTTPClient: &http.Client{}}},
		{name: "fail/empty", cfg: iat.JWKSConfig{}},
		{name: "fail/no issuer", cfg: iat.JWKSConfig{JWKSURI: "https://as.example.test/jwks"}},
		{name: "fail/no jwks uri", cfg: iat.JWKSConfig{Issuer: testIssuer}},
		{name: "fail/relative jwks uri", cfg: iat.JWKSConfig{Issuer: testIssuer, JWKSURI: "/jwks"}},
		{name: "fail/jwks uri not http", cfg: iat.JWKSConfig{Issuer: testIssuer, JWKSURI: "file:///etc/jwks.json"}},
		{name: "fail/jwks uri unparsable", cfg: iat.JWKSConfig{Issuer: testIssuer, JWKSURI: "https://a b/%zz"}},
		{name: "fail/negative skew",
			cfg: iat.JWKSConfig{Issuer: testIssuer, JWKSURI: "https://as.example.test/jwks", ClockSkew: -time.Second}},
		{name: "fail/negative refresh interval",
			cfg: iat.JWKSConfig{Issuer: testIssuer, JWKSURI: "https://as.example.test/jwks", MinRefreshInterval: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := iat.NewJWKSValidator(t.Context(), tt.cfg, nil)
			if (err == nil) != tt.ok {
				t.Fatalf("NewJWKSValidator() error = %v, want ok=%v", err, tt.ok)
			}
			if v != nil {
				if err := v.Close(); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func mustValidate(t *testing.T, v iat.Validator, token string) iat.Principal {
	t.Helper()
	p, err := v.Validate(t.Context(), token)
	if err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	return p
}

func TestKeyRotation(t *testing.T) {
	iss := newIssuer(t, testIssuer)
	srv := serveJWKS(t, iss.JWKSHandler())
	// Without the token cache: a cached token outlives its key's removal
	// by up to the cache TTL (TestTokenCache).
	v := newValidator(t, iat.JWKSConfig{Issuer: testIssuer, JWKSURI: srv.URL, MinRefreshInterval: time.Nanosecond,
		TokenCacheTTL: -1})
	first := mint(t, iss)
	mustValidate(t, v, first)
	before := srv.hits.Load()

	rotate(t, iss)
	mustValidate(t, v, mint(t, iss)) // new kid: one refetch, then success
	if got := srv.hits.Load() - before; got != 1 {
		t.Errorf("JWKS fetched %d times after rotation, want 1", got)
	}
	mustValidate(t, v, first) // the previous key is still served

	rotate(t, iss)
	rotate(t, iss)
	mustValidate(t, v, mint(t, iss)) // refetch drops the first key
	if _, err := v.Validate(t.Context(), first); !errors.Is(err, iat.ErrInvalidToken) {
		t.Errorf("token of a retired key: error = %v, want ErrInvalidToken", err)
	}
}

func rotate(t *testing.T, iss *devissuer.Issuer) {
	t.Helper()
	if err := iss.Rotate(); err != nil {
		t.Fatal(err)
	}
}

func TestJWKSDownAtStartThenUp(t *testing.T) {
	iss := newIssuer(t, testIssuer)
	addr := closedAddr(t)
	v := newValidator(t, iat.JWKSConfig{Issuer: testIssuer, JWKSURI: "http://" + addr + "/jwks"})
	time.Sleep(50 * time.Millisecond) // let the background fetch fail

	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("could not listen on %s again: %v", addr, err)
	}
	srv := httptest.NewUnstartedServer(iss.JWKSHandler())
	_ = srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)

	mustValidate(t, v, mint(t, iss))
}

func TestJWKSUnavailable(t *testing.T) {
	iss := newIssuer(t, testIssuer)
	tests := []struct {
		name string
		uri  func(t *testing.T) string
	}{
		{name: "fail/connection refused", uri: func(t *testing.T) string { return "http://" + closedAddr(t) + "/jwks" }},
		{name: "fail/status 500", uri: serving(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "down", http.StatusInternalServerError)
		}))},
		{name: "fail/not a JWKS", uri: serving(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, "<html>maintenance</html>")
		}))},
		{name: "fail/too slow", uri: serving(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newValidator(t, iat.JWKSConfig{Issuer: testIssuer, JWKSURI: tt.uri(t),
				HTTPClient: &http.Client{Timeout: 200 * time.Millisecond}})
			for range 2 { // the second answer comes from the rate limiter
				_, err := v.Validate(t.Context(), mint(t, iss))
				if !errors.Is(err, iat.ErrUnavailable) || errors.Is(err, iat.ErrInvalidToken) {
					t.Fatalf("Validate() error = %v, want ErrUnavailable", err)
				}
			}
		})
	}
}

func serving(h http.Handler) func(t *testing.T) string {
	return func(t *testing.T) string { return serveJWKS(t, h).URL }
}

func TestJWKSDownWithCachedKeys(t *testing.T) {
	iss := newIssuer(t, testIssuer)
	srv := serveJWKS(t, iss.JWKSHandler())
	v := newValidator(t, iat.JWKSConfig{Issuer: testIssuer, JWKSURI: srv.URL, MinRefreshInterval: time.Nanosecond})
	mustValidate(t, v, mint(t, iss))
	srv.Close()

	mustValidate(t, v, mint(t, iss)) // cached key still usable
	_, err := v.Validate(t.Context(), mint(t, iss, devissuer.WithKeyID("new-kid")))
	if !errors.Is(err, iat.ErrUnavailable) {
		t.Errorf("unknown kid while the JWKS is down: error = %v, want ErrUnavailable", err)
	}
}

func TestValidateCancelledWhileRefreshing(t *testing.T) {
	iss := newIssuer(t, testIssuer)
	release := make(chan struct{})
	srv := serveJWKS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		iss.JWKSHandler().ServeHTTP(w, r)
	}))
	defer close(release)
	v := newValidator(t, iat.JWKSConfig{Issuer: testIssuer, JWKSURI: srv.URL})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := v.Validate(ctx, mint(t, iss))
	if !errors.Is(err, iat.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Validate() error = %v, want ErrUnavailable from the deadline", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Validate() returned after %v, long after its context ended", d)
	}
}

func BenchmarkValidateCached(b *testing.B) {
	iss := newIssuer(b, testIssuer)
	srv := serveJWKS(b, iss.JWKSHandler())
	v := newValidator(b, iat.JWKSConfig{Issuer: testIssuer, JWKSURI: srv.URL, Audience: []string{"dcrgate"}})
	token := mint(b, iss, devissuer.WithAudience("dcrgate"))
	if _, err := v.Validate(b.Context(), token); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Validate(b.Context(), token); err != nil {
			b.Fatal(err)
		}
	}
}
