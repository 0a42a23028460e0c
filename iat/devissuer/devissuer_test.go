package devissuer_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/iat/devissuer"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

const name = "https://as.example.test"

func TestNew(t *testing.T) {
	tests := []struct {
		issuer string
		ok     bool
	}{
		{issuer: name, ok: true},
		{issuer: "http://127.0.0.1:8080/realms/dev", ok: true},
		{issuer: ""},
		{issuer: "as.example.test"},
		{issuer: "/relative"},
		{issuer: "ftp://as.example.test"},
		{issuer: "https://a b/%zz"},
	}
	for _, tt := range tests {
		t.Run(map[bool]string{true: "ok/", false: "fail/"}[tt.ok]+tt.issuer, func(t *testing.T) {
			i, err := devissuer.New(tt.issuer)
			if (err == nil) != tt.ok {
				t.Fatalf("New(%q) error = %v, want ok=%v", tt.issuer, err, tt.ok)
			}
			if err == nil && i.Issuer() != tt.issuer {
				t.Errorf("Issuer() = %q", i.Issuer())
			}
		})
	}
}

// fetchJWKS reads the issuer's JWKS through its handler.
func fetchJWKS(t *testing.T, i *devissuer.Issuer) jwk.Set {
	t.Helper()
	rec := httptest.NewRecorder()
	i.JWKSHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/jwks", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("JWKS: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	set, err := jwk.Parse(rec.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestJWKSHandler(t *testing.T) {
	i, err := devissuer.New(name)
	if err != nil {
		t.Fatal(err)
	}
	set := fetchJWKS(t, i)
	key, ok := set.LookupKeyID(i.KeyID())
	if set.Len() != 1 || !ok {
		t.Fatalf("JWKS has %d keys, kid %q found: %v", set.Len(), i.KeyID(), ok)
	}
	if alg, _ := key.Algorithm(); alg.String() != "ES256" {
		t.Errorf("alg = %v", alg)
	}
	if _, private := key.(interface{ D() ([]byte, bool) }); private {
		t.Error("JWKS publishes the private key")
	}

	rec := httptest.NewRecorder()
	i.JWKSHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/jwks", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", rec.Code)
	}
}

func TestMint(t *testing.T) {
	i, err := devissuer.New(name)
	if err != nil {
		t.Fatal(err)
	}
	expired := time.Now().Add(-time.Hour).Truncate(time.Second)
	tests := []struct {
		name    string
		subject string
		scopes  []string
		ttl     time.Duration
		opts    []devissuer.MintOption
		ok      bool
		check   func(t *testing.T, claims map[string]any, hdr jws.Headers)
	}{
		{name: "ok/defaults", subject: "alice", scopes: []string{"dcr", "openid"}, ttl: time.Minute, ok: true,
			check: func(t *testing.T, c map[string]any, h jws.Headers) {
				for _, k := range []string{"iss", "sub", "client_id", "scope", "iat", "nbf", "exp", "jti"} {
					if c[k] == nil {
						t.Errorf("claim %s missing in %v", k, c)
					}
				}
				if c["iss"] != name || c["sub"] != "alice" || c["client_id"] != "alice" || c["scope"] != "dcr openid" {
					t.Errorf("claims = %v", c)
				}
				if typ, _ := h.Type(); typ != devissuer.TokenType {
					t.Errorf("typ = %q", typ)
				}
			}},
		{name: "ok/options", subject: "alice", ttl: time.Minute, ok: true,
			opts: []devissuer.MintOption{devissuer.WithAudience("a", "b"), devissuer.WithClaim("tenant", "acme"),
				devissuer.WithExpiry(expired), devissuer.WithKeyID("forged"), devissuer.WithClaim("jti", nil)},
			check: func(t *testing.T, c map[string]any, h jws.Headers) {
				aud, _ := c["aud"].([]any)
				if len(aud) != 2 || c["tenant"] != "acme" || c["exp"] != float64(expired.Unix()) || c["jti"] != nil || c["scope"] != nil {
					t.Errorf("claims = %v", c)
				}
				if kid, _ := h.KeyID(); kid != "forged" {
					t.Errorf("kid = %q", kid)
				}
			}},
		{name: "fail/no subject", ttl: time.Minute},
		{name: "fail/zero ttl", subject: "alice"},
		{name: "fail/negative ttl", subject: "alice", ttl: -time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := i.Mint(tt.subject, tt.scopes, tt.ttl, tt.opts...)
			if (err == nil) != tt.ok {
				t.Fatalf("Mint() error = %v, want ok=%v", err, tt.ok)
			}
			if err != nil {
				return
			}
			claims, hdr := verify(t, i, tok)
			tt.check(t, claims, hdr)
		})
	}
}

// verify checks tok's signature against the issuer's current key with jwx
// alone, independently of package iat.
func verify(t *testing.T, i *devissuer.Issuer, tok string) (map[string]any, jws.Headers) {
	t.Helper()
	key, _ := fetchJWKS(t, i).LookupKeyID(i.KeyID())
	payload, err := jws.Verify([]byte(tok), jws.WithKey(jwa.ES256(), key))
	if err != nil {
		t.Fatalf("signature: %v", err)
	}
	msg, err := jws.Parse([]byte(tok))
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims, msg.Signatures()[0].ProtectedHeaders()
}

func TestRotate(t *testing.T) {
	i, err := devissuer.New(name)
	if err != nil {
		t.Fatal(err)
	}
	kids := []string{i.KeyID()}
	for range 3 {
		if err := i.Rotate(); err != nil {
			t.Fatal(err)
		}
		kids = append(kids, i.KeyID())
	}
	set := fetchJWKS(t, i)
	var got []string
	for n := range set.Len() {
		k, _ := set.Key(n)
		kid, _ := k.KeyID()
		got = append(got, kid)
	}
	want := kids[2:] // current and previous only
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) || slices.Contains(got, kids[0]) {
		t.Errorf("JWKS kids = %q, want %q", got, want)
	}
}
