package iat_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/iat"
	"github.com/dcrgate/dcrgate/iat/devissuer"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// validatorFunc adapts a function, such as a statement verifier's, to
// iat.Validator.
type validatorFunc func(ctx context.Context, token string) (iat.Principal, error)

func (f validatorFunc) Validate(ctx context.Context, token string) (iat.Principal, error) {
	return f(ctx, token)
}

// skewKind builds one kind of validator with the given skew and returns
// the token it should judge: one whose exp (or nbf) is off by about a
// second.
type skewKind func(t *testing.T, skew time.Duration, timing devissuer.MintOption) (iat.Validator, string)

// TestClockSkew: every validator tolerates exactly the skew it is given;
// 0 is strict, never replaced by a default (config applies the default
// when clock_skew is omitted).
func TestClockSkew(t *testing.T) {
	kinds := map[string]skewKind{"jwks": jwksSkew, "introspection": introspectionSkew,
		"statement": statementSkew, "discovery": discoverySkew}
	expired := devissuer.WithExpiry(time.Now().Add(-time.Second))
	notYet := devissuer.WithClaim("nbf", time.Now().Add(2*time.Second).Unix())
	tests := []struct {
		name   string
		skew   time.Duration
		timing devissuer.MintOption
		ok     bool
	}{
		{name: "ok/expired 1s ago, skew 30s", skew: 30 * time.Second, timing: expired, ok: true},
		{name: "ok/valid in 2s, skew 30s", skew: 30 * time.Second, timing: notYet, ok: true},
		{name: "fail/expired 1s ago, skew 0", timing: expired},
		{name: "fail/valid in 2s, skew 0", timing: notYet},
	}
	for kind, build := range kinds {
		for _, tt := range tests {
			t.Run(kind+"/"+tt.name, func(t *testing.T) {
				v, token := build(t, tt.skew, tt.timing)
				_, err := v.Validate(t.Context(), token)
				if tt.ok != (err == nil) || err != nil && !errors.Is(err, iat.ErrInvalidToken) {
					t.Fatalf("Validate() error = %v, want ok=%v", err, tt.ok)
				}
			})
		}
	}
}

func jwksSkew(t *testing.T, skew time.Duration, timing devissuer.MintOption) (iat.Validator, string) {
	iss := newIssuer(t, testIssuer)
	srv := serveJWKS(t, iss.JWKSHandler())
	return newValidator(t, iat.JWKSConfig{Issuer: testIssuer, JWKSURI: srv.URL, ClockSkew: skew}), mint(t, iss, timing)
}

// introspectionSkew reads the timing off a minted token, so the answer of
// the introspection endpoint carries the same exp and nbf.
func introspectionSkew(t *testing.T, skew time.Duration, timing devissuer.MintOption) (iat.Validator, string) {
	iss := newIssuer(t, testIssuer)
	claims := payloadOf(t, mint(t, iss, timing))
	as := newFakeAS()
	as.issue("opaque", map[string]any{"exp": claims["exp"], "nbf": claims["nbf"]})
	srv := serveJWKS(t, as)
	return newIntrospector(t, iat.IntrospectionConfig{Endpoint: srv.URL, ClockSkew: skew}), "opaque"
}

func statementSkew(t *testing.T, skew time.Duration, timing devissuer.MintOption) (iat.Validator, string) {
	signer := newIssuer(t, "https://software.example.test")
	set, err := jwk.Parse(jwksBody(t, signer))
	if err != nil {
		t.Fatal(err)
	}
	sv, err := iat.NewStatementVerifier(t.Context(), []iat.StatementIssuer{
		{JWKSConfig: iat.JWKSConfig{Issuer: signer.Issuer(), JWKS: set, ClockSkew: skew}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sv.Close() })
	verify := validatorFunc(func(ctx context.Context, stmt string) (iat.Principal, error) {
		st, err := sv.Verify(ctx, stmt)
		return iat.Principal{Issuer: st.Issuer}, err
	})
	return verify, mint(t, signer, timing, devissuer.WithType(""))
}

func discoverySkew(t *testing.T, skew time.Duration, timing devissuer.MintOption) (iat.Validator, string) {
	iss := newIssuer(t, testIssuer)
	mux := http.NewServeMux()
	srv := serveJWKS(t, mux)
	mux.Handle("/jwks", iss.JWKSHandler())
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": srv.URL + "/jwks"})
	})
	d, err := iat.NewDiscoveryValidator(t.Context(), iat.JWKSConfig{Issuer: srv.URL, ClockSkew: skew}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d, mint(t, iss, timing, devissuer.WithClaim("iss", srv.URL))
}
