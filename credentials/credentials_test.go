package credentials

import (
	"regexp"
	"strings"
	"testing"
)

func TestNewClientIDShape(t *testing.T) {
	idShape := regexp.MustCompile(`^[a-z2-7]{26}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := NewClientID()
		if !idShape.MatchString(id) {
			t.Fatalf("client id %q is not 26 lowercase base32 chars", id)
		}
		if seen[id] {
			t.Fatalf("duplicate client id %q", id)
		}
		seen[id] = true
	}
}

func TestSecretsAreLongAndDistinct(t *testing.T) {
	a, b := NewSecret(), NewSecret()
	if len(a) != 43 || a == b {
		t.Fatalf("secrets %q %q: want 43 chars and distinct", a, b)
	}
	if r := NewRegistrationToken(); len(r) != 43 || r == a {
		t.Fatalf("registration token %q", r)
	}
}

func TestTokenMatches(t *testing.T) {
	tok := NewRegistrationToken()
	h := HashToken(tok)
	if strings.Contains(h, tok) || len(h) != 64 {
		t.Fatalf("hash %q", h)
	}
	tests := []struct {
		name, token, hash string
		want              bool
	}{
		{"ok/same token", tok, h, true},
		{"fail/other token", NewRegistrationToken(), h, false},
		{"fail/empty stored hash", "", "", false},
		{"fail/empty token", "", h, false},
		{"fail/hash used as token", h, h, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TokenMatches(tt.token, tt.hash); got != tt.want {
				t.Fatalf("TokenMatches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidClientID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{NewClientID(), true},
		{"my-client_01", true},
		{strings.Repeat("a", 64), true},
		{"", false},
		{strings.Repeat("a", 65), false},
		{"Upper", false},
		{"a*", false},
		{"a,ou=x", false},
		{"a)(b", false},
		{"a\x00", false},
		{"ünï", false},
	}
	for _, tt := range tests {
		if got := ValidClientID(tt.id); got != tt.want {
			t.Errorf("ValidClientID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}
