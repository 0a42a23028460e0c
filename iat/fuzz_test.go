package iat

import (
	"testing"
)

// seeds are tokens of every shape the parsers meet, valid and broken.
var seeds = []string{
	"",
	"a.b.c",
	"eyJhbGciOiJFUzI1NiIsImtpZCI6ImsiLCJ0eXAiOiJhdCtqd3QifQ.eyJpc3MiOiJodHRwczovL2FzIn0.c2ln",
	"eyJhbGciOiJub25lIn0.eyJpc3MiOjF9.",
	"eyJhbGciOiJFUzI1NiIsImtpZCI6MSwidHlwIjp0cnVlfQ.e30.c2ln",
	"e30.W10.c2ln",
	"....",
}

// FuzzParseHeader: any input yields a header or an error, never a panic,
// and an accepted header always names an allowed algorithm and a kid.
func FuzzParseHeader(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		h, err := parseHeader(token)
		if err != nil {
			return
		}
		if _, ok := allowedAlgs[h.alg.String()]; !ok || h.kid == "" {
			t.Errorf("parseHeader(%q) = %+v", token, h)
		}
	})
}

// FuzzUnverifiedIssuer: any input yields an issuer or an error, never a
// panic, and never an empty issuer without an error.
func FuzzUnverifiedIssuer(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		iss, err := unverifiedIssuer(token)
		if err == nil && iss == "" {
			t.Errorf("unverifiedIssuer(%q) = \"\", nil", token)
		}
	})
}
