package iat_test

import (
	"errors"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/iat"
	"github.com/dcrgate/dcrgate/iat/devissuer"
)

func TestMulti(t *testing.T) {
	a, b := newIssuer(t, "https://a.example.test"), newIssuer(t, "https://b.example.test")
	srvA, srvB := serveJWKS(t, a.JWKSHandler()), serveJWKS(t, b.JWKSHandler())
	// Every unknown kid may be refetched, so a kid that is not A's is
	// refused (401) rather than left unjudged by the rate limit (503).
	m, err := iat.NewMulti(map[string]iat.Validator{
		a.Issuer(): newValidator(t, iat.JWKSConfig{Issuer: a.Issuer(), JWKSURI: srvA.URL, MinRefreshInterval: time.Nanosecond}),
		b.Issuer(): newValidator(t, iat.JWKSConfig{Issuer: b.Issuer(), JWKSURI: srvB.URL, MinRefreshInterval: time.Nanosecond}),
	})
	if err != nil {
		t.Fatal(err)
	}
	mustValidate(t, m, mint(t, b)) // warm B's cache

	tests := []struct {
		name    string
		token   func(t *testing.T) string
		wantIss string
	}{
		{name: "ok/issuer a", token: minted(a), wantIss: a.Issuer()},
		{name: "ok/issuer b", token: minted(b), wantIss: b.Issuer()},
		{name: "fail/unknown issuer", token: minted(a, devissuer.WithClaim("iss", "https://c.example.test"))},
		{name: "fail/claims a, signed by b", token: minted(b, devissuer.WithClaim("iss", a.Issuer()))},
		{name: "fail/claims b, signed by a with b's kid",
			token: minted(a, devissuer.WithClaim("iss", b.Issuer()), devissuer.WithKeyID(b.KeyID()))},
		{name: "fail/no iss", token: minted(a, devissuer.WithClaim("iss", nil))},
		{name: "fail/iss not a string", token: minted(a, devissuer.WithClaim("iss", 1))},
		{name: "fail/iss in another case", token: minted(a, devissuer.WithClaim("iss", nil), devissuer.WithClaim("ISS", a.Issuer()))},
		{name: "fail/payload not base64", token: literal("e30.!!!.c2ln")},
		{name: "fail/payload not an object", token: literal("e30." + b64(`["iss"]`) + ".c2ln")},
		{name: "fail/garbage", token: literal("garbage")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hitsB := srvB.hits.Load()
			p, err := m.Validate(t.Context(), tt.token(t))
			if tt.wantIss == "" {
				if !errors.Is(err, iat.ErrInvalidToken) {
					t.Fatalf("Validate() error = %v, want ErrInvalidToken", err)
				}
			} else if err != nil || p.Issuer != tt.wantIss {
				t.Fatalf("Validate() = %q, %v; want issuer %q", p.Issuer, err, tt.wantIss)
			}
			// Only the named issuer's keys are consulted: B's JWKS is
			// never refetched for a token that claims to be A's.
			if tt.wantIss != b.Issuer() && srvB.hits.Load() != hitsB {
				t.Errorf("B's JWKS was fetched for a token not claiming B")
			}
		})
	}
}

func TestNewMulti(t *testing.T) {
	v := newValidator(t, iat.JWKSConfig{Issuer: testIssuer, JWKSURI: "http://127.0.0.1:1/jwks"})
	tests := []struct {
		name string
		in   map[string]iat.Validator
		ok   bool
	}{
		{name: "ok/one", in: map[string]iat.Validator{testIssuer: v}, ok: true},
		{name: "ok/none", in: nil, ok: true},
		{name: "fail/empty issuer", in: map[string]iat.Validator{"": v}},
		{name: "fail/nil validator", in: map[string]iat.Validator{testIssuer: nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := iat.NewMulti(tt.in); (err == nil) != tt.ok {
				t.Errorf("NewMulti() error = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
