package client

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/dcrgate/dcrgate/oauth"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// decodeNormalize runs the path a registration takes: Decode, then Normalize.
func decodeNormalize(body string, opts Options) (Metadata, error) {
	req, err := Decode([]byte(body), opts)
	if err != nil {
		return Metadata{}, err
	}
	m := req.Metadata
	err = m.Normalize(opts)
	return m, err
}

// assertOAuthError checks that err is an *oauth.Error with want's code and a
// description that mentions mention.
func assertOAuthError(t *testing.T, err error, want *oauth.Error, mention string) {
	t.Helper()
	var got *oauth.Error
	if !errors.As(err, &got) {
		t.Fatalf("error = %v (%T), want *oauth.Error %s", err, err, want.Code)
	}
	if !errors.Is(err, want) {
		t.Fatalf("error code = %s (%s), want %s", got.Code, got.Description, want.Code)
	}
	if !strings.Contains(got.Description, mention) {
		t.Fatalf("description %q does not mention %q", got.Description, mention)
	}
}

// assertJSONEqual compares m's canonical JSON with want, ignoring member
// order (ordering has its own golden test).
func assertJSONEqual(t *testing.T, m Metadata, want string) {
	t.Helper()
	got, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	var gotDoc, wantDoc any
	if err := json.Unmarshal(got, &gotDoc); err != nil {
		t.Fatalf("Marshal wrote invalid JSON %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &wantDoc); err != nil {
		t.Fatalf("bad want JSON %s: %v", want, err)
	}
	if !reflect.DeepEqual(gotDoc, wantDoc) {
		t.Fatalf("metadata =\n%s\nwant\n%s", got, want)
	}
}

// publicJWKS returns a JWK Set with a freshly generated EC public key.
func publicJWKS(t testing.TB) string {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return jwksOf(t, &priv.PublicKey)
}

// privateJWKS returns a JWK Set holding an RSA private key.
func privateJWKS(t testing.TB) string {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return jwksOf(t, priv)
}

func jwksOf(t testing.TB, raw any) string {
	t.Helper()
	key, err := jwk.Import(raw)
	if err != nil {
		t.Fatal(err)
	}
	set := jwk.NewSet()
	if err := set.AddKey(key); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
