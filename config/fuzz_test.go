package config

import (
	"os"
	"testing"
)

// FuzzDecode: any file content gives a config or problems, never a panic
// or a hang (anchors and aliases included).
func FuzzDecode(f *testing.F) {
	if example, err := os.ReadFile("../dcrgate.example.yaml"); err == nil {
		f.Add(string(example))
	}
	f.Add("a: &a {b: *a}\n")
	f.Add("log:\n  <<: [*x]\n")
	f.Add("initial_access_tokens:\n  issuers: [{clock_skew: 1s}, 3]\n")
	f.Fuzz(func(t *testing.T, data string) {
		c := Default()
		_, _, _ = decode([]byte(data), &c)
	})
}
