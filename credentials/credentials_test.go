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

func TestSSHA512(t *testing.T) {
	h, err := NewHasher(SchemeSSHA512)
	if err != nil {
		t.Fatal(err)
	}
	secret := NewSecret()
	stored, err := h.Hash(secret)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stored, "{SSHA512}") || strings.Contains(stored, secret) {
		t.Fatalf("stored form %q", stored)
	}
	again, _ := h.Hash(secret)
	if again == stored {
		t.Fatal("two hashes of one secret are equal: salt missing")
	}
	tests := []struct {
		name, secret, stored string
		want                 bool
		wantErr              bool
	}{
		{"ok/right secret", secret, stored, true, false},
		{"ok/right secret, other salt", secret, again, true, false},
		{"fail/wrong secret", "nope", stored, false, false},
		{"fail/other scheme", secret, "{SSHA}abc", false, true},
		{"fail/not base64", secret, "{SSHA512}!!!", false, true},
		{"fail/too short", secret, "{SSHA512}YWJj", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.Verify(tt.secret, tt.stored)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Fatalf("Verify = %v, %v; want %v, err %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestNewHasherUnknownScheme(t *testing.T) {
	if _, err := NewHasher("{MD5}"); err == nil {
		t.Fatal("want error for {MD5}")
	}
}

func BenchmarkSSHA512Hash(b *testing.B) {
	h, _ := NewHasher(SchemeSSHA512)
	s := NewSecret()
	for b.Loop() {
		_, _ = h.Hash(s)
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
