package iat_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/dcrgate/dcrgate/iat"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// jwkEntry is one key of a hand-built JWKS.
type jwkEntry struct {
	kid   string
	key   any    // public or (to test refusal) private key
	alg   string // "" leaves alg out, so the validator must infer
	use   string
	extra map[string]any
}

func jwksHandler(t *testing.T, entries ...jwkEntry) http.Handler {
	t.Helper()
	set := jwk.NewSet()
	for _, e := range entries {
		k, err := jwk.Import(e.key)
		if err != nil {
			t.Fatal(err)
		}
		fields := map[string]any{jwk.KeyIDKey: e.kid}
		if e.alg != "" {
			fields[jwk.AlgorithmKey] = e.alg
		}
		if e.use != "" {
			fields[jwk.KeyUsageKey] = e.use
		}
		for name, v := range fields {
			if err := k.Set(name, v); err != nil {
				t.Fatal(err)
			}
		}
		if err := set.AddKey(k); err != nil {
			t.Fatal(err)
		}
	}
	body, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
}

func signWith(t *testing.T, alg jwa.SignatureAlgorithm, priv crypto.Signer, headers map[string]any) string {
	t.Helper()
	hdr := jws.NewHeaders()
	for name, v := range headers {
		if err := hdr.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	payload, err := json.Marshal(validClaims(testIssuer))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.Sign(payload, jws.WithKey(alg, priv, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(tok)
}

func TestKeySelection(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)

	tests := []struct {
		name  string
		jwks  []jwkEntry
		alg   jwa.SignatureAlgorithm
		priv  crypto.Signer
		hdr   map[string]any // more JOSE headers
		valid bool
		msg   string // in the error
	}{
		{name: "ok/RS256, key without alg", jwks: []jwkEntry{{kid: "k", key: &rsaKey.PublicKey}},
			alg: jwa.RS256(), priv: rsaKey, valid: true},
		{name: "ok/PS384, key without alg", jwks: []jwkEntry{{kid: "k", key: &rsaKey.PublicKey}},
			alg: jwa.PS384(), priv: rsaKey, valid: true},
		{name: "ok/RS512, key alg RS512", jwks: []jwkEntry{{kid: "k", key: &rsaKey.PublicKey, alg: "RS512", use: "sig"}},
			alg: jwa.RS512(), priv: rsaKey, valid: true},
		{name: "ok/ES384, P-384 key without alg", jwks: []jwkEntry{{kid: "k", key: &p384.PublicKey}},
			alg: jwa.ES384(), priv: p384, valid: true},
		{name: "ok/EdDSA, Ed25519 key without alg", jwks: []jwkEntry{{kid: "k", key: edPub}},
			alg: jwa.EdDSA(), priv: edPriv, valid: true},
		{name: "ok/picks the key by kid", jwks: []jwkEntry{{kid: "a", key: &p384.PublicKey}, {kid: "k", key: &p256.PublicKey}},
			alg: jwa.ES256(), priv: p256, valid: true},

		{name: "fail/PS256 but key alg RS256", jwks: []jwkEntry{{kid: "k", key: &rsaKey.PublicKey, alg: "RS256"}},
			alg: jwa.PS256(), priv: rsaKey, msg: "key is for RS256"},
		{name: "fail/key use enc", jwks: []jwkEntry{{kid: "k", key: &rsaKey.PublicKey, use: "enc"}},
			alg: jwa.RS256(), priv: rsaKey, msg: `key use is "enc"`},
		{name: "fail/ES256 but P-384 key", jwks: []jwkEntry{{kid: "k", key: &p384.PublicKey}},
			alg: jwa.ES256(), priv: p384, msg: `curve "P-384"`},
		{name: "fail/private key in the JWKS", jwks: []jwkEntry{{kid: "k", key: p256}},
			alg: jwa.ES256(), priv: p256, msg: "private key"},
		{name: "fail/crit header not understood", jwks: []jwkEntry{{kid: "k", key: &p256.PublicKey}},
			alg: jwa.ES256(), priv: p256, hdr: map[string]any{"crit": []string{"exp"}, "exp": 1}, msg: "crit"},
		{name: "fail/kid too long", jwks: []jwkEntry{{kid: "k", key: &p256.PublicKey}},
			alg: jwa.ES256(), priv: p256, hdr: map[string]any{"kid": strings.Repeat("k", 300)}, msg: "kid is 300 bytes"},
		{name: "fail/HS256 with a symmetric key in the JWKS", jwks: []jwkEntry{{kid: "k", key: []byte("0123456789abcdef0123456789abcdef")}},
			alg: jwa.HS256(), msg: `"HS256" is not allowed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serveJWKS(t, jwksHandler(t, tt.jwks...))
			v := newValidator(t, iat.JWKSConfig{Issuer: testIssuer, JWKSURI: srv.URL})
			token := tokenFor(t, tt.alg, tt.priv, tt.hdr)
			_, err := v.Validate(t.Context(), token)
			if tt.valid != (err == nil) || err != nil && !errors.Is(err, iat.ErrInvalidToken) {
				t.Fatalf("Validate() error = %v, want valid=%v", err, tt.valid)
			}
			if err != nil && !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Validate() error = %v, want it to say %q", err, tt.msg)
			}
		})
	}
}

// tokenFor signs with priv, or for HMAC with the symmetric key of the test.
func tokenFor(t *testing.T, alg jwa.SignatureAlgorithm, priv crypto.Signer, extra map[string]any) string {
	if priv != nil {
		hdr := map[string]any{"kid": "k"}
		maps.Copy(hdr, extra)
		return signWith(t, alg, priv, hdr)
	}
	hdr := map[string]any{"alg": alg.String(), "kid": "k"}
	return craft(t, hdr, validClaims(testIssuer), hs256([]byte("0123456789abcdef0123456789abcdef")))
}
