package iat_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/iat"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// notUTF8 stands for a claim value that is not UTF-8: encoding/json would
// turn such bytes into U+FFFD, so the encoded claims are patched instead.
const notUTF8 = "NOT-UTF-8"

// withRawBytes replaces the JSON string "NOT-UTF-8" by one holding a byte
// that is not UTF-8.
func withRawBytes(body []byte) []byte {
	return bytes.ReplaceAll(body, []byte(`"`+notUTF8+`"`), []byte("\"al\xffce\""))
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestStorableClaims: what registration stores of a principal (iss, sub,
// client_id, scopes: directory strings; TokenID: IA5) is checked by every
// validator, so a token whose claims the directory would refuse is a 401,
// never a 500; and a jti that could not be stored is named by its hash.
func TestStorableClaims(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	odd := "jti with spaces and é"
	tests := []struct {
		name    string
		edit    map[string]any // claims to change; nil deletes
		wantSub string
		wantCID string
		scopes  []string
		jti     string // the TokenID a JWT gets; "" = the jti as sent
	}{
		{name: "ok/plain", wantSub: "alice", wantCID: "app", scopes: []string{"dcr", "openid"}},
		{name: "ok/non-ASCII subject", edit: map[string]any{"sub": "José 山田"}, wantSub: "José 山田"},
		{name: "ok/subject of 1024 bytes", edit: map[string]any{"sub": long(1024)}, wantSub: long(1024)},
		{name: "ok/scp array", edit: map[string]any{"scope": nil, "scp": []string{"dcr", "dcr:admin"}},
			scopes: []string{"dcr", "dcr:admin"}},
		{name: "ok/jti of 256 bytes kept", edit: map[string]any{"jti": long(256)}, jti: long(256)},
		{name: "ok/jti of 257 bytes hashed", edit: map[string]any{"jti": long(257)}, jti: sha256Hex(long(257))},
		{name: "ok/jti with spaces and non-ASCII hashed", edit: map[string]any{"jti": odd}, jti: sha256Hex(odd)},
		{name: "ok/jti with NUL hashed", edit: map[string]any{"jti": "a\x00b"}, jti: sha256Hex("a\x00b")},
		{name: "ok/jti with a tab hashed", edit: map[string]any{"jti": "a\tb"}, jti: sha256Hex("a\tb")},

		{name: "fail/sub with NUL", edit: map[string]any{"sub": "alice\x00admin"}},
		{name: "fail/sub with ESC (C0)", edit: map[string]any{"sub": "alice\x1b[31m"}},
		{name: "fail/sub with DEL", edit: map[string]any{"sub": "alice\x7f"}},
		{name: "fail/sub with NEL (C1)", edit: map[string]any{"sub": "alice\u0085"}},
		{name: "fail/sub with a newline", edit: map[string]any{"sub": "alice\nadmin"}},
		{name: "fail/sub not UTF-8", edit: map[string]any{"sub": notUTF8}},
		{name: "fail/sub of 1025 bytes", edit: map[string]any{"sub": long(1025)}},
		{name: "fail/client_id with NUL", edit: map[string]any{"client_id": "app\x00"}},
		{name: "fail/client_id of 1025 bytes", edit: map[string]any{"client_id": long(1025)}},
		{name: "fail/client_id not UTF-8", edit: map[string]any{"client_id": notUTF8}},
		{name: "fail/azp with a control character", edit: map[string]any{"client_id": nil, "azp": "app\x01"}},
		{name: "fail/iss with NUL", edit: map[string]any{"iss": testIssuer + "\x00"}},
		{name: "fail/scope with NUL", edit: map[string]any{"scope": "dcr\x00admin"}},
		{name: "fail/scope of 1025 bytes", edit: map[string]any{"scope": "dcr " + long(1025)}},
		{name: "fail/scp element with a space", edit: map[string]any{"scope": nil, "scp": []string{"dcr", "dcr admin"}}},
		{name: "fail/scp element empty", edit: map[string]any{"scope": nil, "scp": []string{"dcr", ""}}},
		{name: "fail/scp element with a no-break space", edit: map[string]any{"scope": nil, "scp": []string{"dcr\u00a0admin"}}},
		{name: "fail/jti not UTF-8", edit: map[string]any{"jti": notUTF8}},
		{name: "fail/another claim not UTF-8", edit: map[string]any{"name": notUTF8}},
	}
	r := newStorableRig(t)
	for _, tt := range tests {
		for _, method := range []string{iat.MethodJWT, iat.MethodIntrospection} {
			t.Run(method+"/"+tt.name, func(t *testing.T) {
				token := r.token(t, method, tt.edit)
				p, err := r.router.Validate(t.Context(), token)
				if ok := strings.HasPrefix(tt.name, "ok/"); ok != (err == nil) || err != nil && !errors.Is(err, iat.ErrInvalidToken) {
					t.Fatalf("Validate() error = %v, want ok=%v", err, ok)
				}
				if err != nil {
					return
				}
				checkStorable(t, p)
				want := iat.Principal{Subject: cmpOr(tt.wantSub, "alice"), ClientID: cmpOr(tt.wantCID, "app"),
					Scopes: tt.scopes, TokenID: r.wantTokenID(method, token, tt.edit, tt.jti)}
				if want.Scopes == nil {
					want.Scopes = []string{"dcr", "openid"}
				}
				if p.Subject != want.Subject || p.ClientID != want.ClientID || !slices.Equal(p.Scopes, want.Scopes) || p.TokenID != want.TokenID {
					t.Errorf("principal = %+v, want %+v", p, want)
				}
			})
		}
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// checkStorable asserts what the directory needs of an owner.
func checkStorable(t *testing.T, p iat.Principal) {
	t.Helper()
	if len(p.TokenID) == 0 || len(p.TokenID) > 256 || strings.ContainsFunc(p.TokenID, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		t.Errorf("TokenID %q is not printable ASCII of 1..256 bytes", p.TokenID)
	}
}

// storableRig is a router with a JWT issuer whose JWKS is served over HTTP
// and an introspection endpoint for opaque tokens, both of the same issuer.
type storableRig struct {
	router *iat.Router
	priv   *ecdsa.PrivateKey
	as     *rawAS
}

func newStorableRig(t *testing.T) *storableRig {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r := &storableRig{priv: priv, as: &rawAS{bodies: map[string][]byte{}}}
	jwks := serveJWKS(t, jwksHandler(t, jwkEntry{kid: "k", key: &priv.PublicKey}))
	keys := newValidator(t, iat.JWKSConfig{Issuer: testIssuer, JWKSURI: jwks.URL})
	intro := newIntrospector(t, iat.IntrospectionConfig{Endpoint: serveJWKS(t, r.as).URL})
	r.router, err = iat.NewRouter([]iat.Route{{Issuer: testIssuer, Method: iat.MethodJWT, Validator: keys}},
		[]iat.OpaqueRoute{{Route: iat.Route{Issuer: testIssuer, Method: iat.MethodIntrospection, Validator: intro}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// claims are the base claims of both kinds of token with edit applied,
// encoded, and patched by withRawBytes.
func storableClaims(t *testing.T, base, edit map[string]any) []byte {
	t.Helper()
	claims := maps.Clone(base)
	for k, v := range edit {
		if v == nil {
			delete(claims, k)
			continue
		}
		claims[k] = v
	}
	body, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return withRawBytes(body)
}

func baseClaims() map[string]any {
	now := time.Now()
	return map[string]any{"iss": testIssuer, "sub": "alice", "client_id": "app", "scope": "dcr openid",
		"jti": "jti-1", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
}

// token returns a JWT signed by the rig's key, or an opaque token the
// rig's introspection endpoint answers for, carrying the edited claims.
func (r *storableRig) token(t *testing.T, method string, edit map[string]any) string {
	t.Helper()
	if method == iat.MethodIntrospection {
		base := baseClaims()
		base["active"] = true
		return r.as.issue(storableClaims(t, base, edit))
	}
	hdr := jws.NewHeaders()
	for name, v := range map[string]any{"kid": "k", "typ": "at+jwt"} {
		if err := hdr.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := jws.Sign(storableClaims(t, baseClaims(), edit), jws.WithKey(jwa.ES256(), r.priv, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(tok)
}

// wantTokenID is the TokenID a principal must carry: the token's hash for
// introspection, else the jti (as edited, or as the test case says).
func (r *storableRig) wantTokenID(method, token string, edit map[string]any, jti string) string {
	switch {
	case method == iat.MethodIntrospection:
		return iat.TokenHash(token)
	case jti != "":
		return jti
	}
	if s, ok := edit["jti"].(string); ok {
		return s
	}
	return "jti-1"
}

// rawAS is an RFC 7662 endpoint that answers each token with the exact
// bytes it was given, so a test can send what encoding/json would never
// produce.
type rawAS struct {
	mu     sync.Mutex
	n      int
	bodies map[string][]byte
}

func (a *rawAS) issue(body []byte) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	token := "opaque-" + strconv.Itoa(a.n)
	a.bodies[token] = body
	return token
}

func (a *rawAS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	body, ok := a.bodies[r.PostForm.Get("token")]
	a.mu.Unlock()
	if !ok {
		body = []byte(`{"active":false}`)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}
