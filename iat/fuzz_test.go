package iat

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
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

// FuzzStorableTokenID: whatever the jti, the TokenID is the jti itself or
// its SHA-256 hex, and a non-empty one always fits the IA5 attribute.
func FuzzStorableTokenID(f *testing.F) {
	for _, s := range []string{"", "jti-1", "a b", "\x00", "\xff", "é", strings.Repeat("x", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, jti string) {
		id := storableTokenID(jti)
		sum := sha256.Sum256([]byte(jti))
		if id != jti && id != hex.EncodeToString(sum[:]) {
			t.Fatalf("storableTokenID(%q) = %q, neither the jti nor its hash", jti, id)
		}
		unprintable := func(r rune) bool { return r < 0x21 || r > 0x7e }
		if jti != "" && (id == "" || len(id) > maxTokenIDBytes || strings.ContainsFunc(id, unprintable)) {
			t.Errorf("storableTokenID(%q) = %q, which the directory cannot store", jti, id)
		}
	})
}
