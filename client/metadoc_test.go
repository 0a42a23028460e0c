package client

import (
	"strings"
	"testing"
)

func TestIsMetadataDocumentID(t *testing.T) {
	for id, want := range map[string]bool{
		"https://app.example.com/client.json":                 true,
		"https://app.example.com:8443/oauth/client":           true,
		"https://app.example.com/c?v=1":                       true,
		"https://app.example.com/a)(objectClass=*),x":         true, // escaped in every DN and filter
		"https://app.example.com":                             false,
		"https://app.example.com/":                            false,
		"http://app.example.com/client.json":                  false,
		"https://app.example.com/client.json#x":               false,
		"https://u:p@app.example.com/client.json":             false,
		"https://app.example.com/./client.json":               false,
		"https://app.example.com/a/../client.json":            false,
		"https://app.example.com/cl ient.json":                false,
		"https://app.example.com/clïent.json":                 false,
		"https://app.example.com/c\x00":                       false,
		"https:///client.json":                                false,
		"https://app.example.com/" + strings.Repeat("a", 240): false,
		"abc": false, "": false,
	} {
		if got := IsMetadataDocumentID(id); got != want {
			t.Errorf("IsMetadataDocumentID(%q) = %v, want %v", id, got, want)
		}
	}
	if !ValidID("abc-123") || !ValidID("https://a.example/c") || ValidID("https://a.example") {
		t.Error("ValidID must accept issued IDs and metadata document URLs only")
	}
}
