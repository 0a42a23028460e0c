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
	for b.Loop() {
		var out Metadata
		if err := json.Unmarshal(stored, &out); err != nil {
			b.Fatal(err)
		}
	}
}
