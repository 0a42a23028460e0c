package client

import (
	"encoding/json"
	"testing"
)

func BenchmarkDecodeNormalize(b *testing.B) {
	body := []byte(mcpBody)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req, err := Decode(body, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := req.Metadata.Normalize(Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshal(b *testing.B) {
	m, err := decodeNormalize(mcpBody, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnmarshalStored is the store's read path: canonical JSON back
// into Metadata.
func BenchmarkUnmarshalStored(b *testing.B) {
	var m Metadata
	if err := json.Unmarshal([]byte(mcpBody), &m); err != nil {
		b.Fatal(err)
	}
	stored, err := json.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var out Metadata
		if err := out.UnmarshalJSON(stored); err != nil { // as ldapstore decodes
			b.Fatal(err)
		}
	}
}

// readObjectBody is a realistic ~600-byte registration body for
// BenchmarkReadObject.
const readObjectBody = `{
  "redirect_uris": [
    "https://app.example.com/oauth/callback",
    "http://127.0.0.1:33418/callback"
  ],
  "client_name": "Example Photo Printing Service",
  "grant_types": ["authorization_code", "refresh_token"],
  "response_types": ["code"],
  "token_endpoint_auth_method": "client_secret_basic",
  "scope": "openid profile photos:read offline_access",
  "client_uri": "https://app.example.com",
  "logo_uri": "https://app.example.com/static/images/logo-256x256.png",
  "contacts": ["ops@example.com", "security@example.com"],
  "software_id": "4NRB1-0XZABZI9E6-5SM3R",
  "software_version": "2.1.0-rc.4+build.20240611"
}`

// BenchmarkReadObject measures splitting a body into its top-level members,
// the first step of Decode.
func BenchmarkReadObject(b *testing.B) {
	body := []byte(readObjectBody)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		members, err := readObject(body)
		if err != nil || len(members) != 11 {
			b.Fatal(len(members), err)
		}
	}
}
