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
