package credentials

import (
	"errors"
	"strings"
	"testing"
)

// TestHashers checks every scheme the directory verifies: the stored form
// carries the scheme, never the secret, is salted, and verifies only the
// right secret.
func TestHashers(t *testing.T) {
	malformed := map[string][]string{
		SchemeSSHA512: {"{SSHA512}!!!", "{SSHA512}YWJj"},
		SchemeArgon2: {"{ARGON2}$argon2i$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
			"{ARGON2}$argon2id$v=16$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
			"{ARGON2}$argon2id$v=19$m=4194304,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
			"{ARGON2}$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ", "{ARGON2}$argon2id$v=19$m=4096,t=3,p=1$!$!"},
		SchemePBKDF2SHA512: {"{PBKDF2-SHA512}10000$c2FsdA", "{PBKDF2-SHA512}x$c2FsdA$aGFzaA",
			"{PBKDF2-SHA512}0$c2FsdA$aGFzaA", "{PBKDF2-SHA512}10$c2FsdA$aGFzaA"},
	}
	for scheme, bad := range malformed {
		t.Run(scheme, func(t *testing.T) {
			h, err := NewHasher(scheme)
			if err != nil {
				t.Fatal(err)
			}
			secret := NewSecret()
			stored, err := h.Hash(secret)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(stored, scheme) || strings.Contains(stored, secret) {
				t.Fatalf("stored form %q", stored)
			}
			again, _ := h.Hash(secret)
			if again == stored {
				t.Fatal("two hashes of one secret are equal: salt missing")
			}
			tests := []struct {
				name, secret, stored string
				want, wantErr        bool
			}{
				{"ok/right secret", secret, stored, true, false},
				{"ok/right secret, other salt", secret, again, true, false},
				{"fail/wrong secret", NewSecret(), stored, false, false},
				{"fail/one character off", secret[:42] + "!", stored, false, false},
				{"fail/other scheme", secret, "{SSHA}abc", false, true},
			}
			for i, v := range bad {
				tests = append(tests, struct {
					name, secret, stored string
					want, wantErr        bool
				}{"fail/malformed " + string(rune('a'+i)), secret, v, false, true})
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got, err := h.Verify(tt.secret, tt.stored)
					if got != tt.want || (err != nil) != tt.wantErr {
						t.Fatalf("Verify = %v, %v; want %v, err %v", got, err, tt.want, tt.wantErr)
					}
				})
			}
		})
	}
}

// TestArgon2Format pins the PHC layout slapd's argon2 module parses.
func TestArgon2Format(t *testing.T) {
	h, _ := NewHasher(SchemeArgon2)
	stored, _ := h.Hash("x")
	parts := strings.Split(stored, "$")
	if len(parts) != 6 || parts[0] != "{ARGON2}" || parts[1] != "argon2id" || parts[2] != "v=19" ||
		parts[3] != "m=4096,t=3,p=1" || len(parts[4]) != 22 || len(parts[5]) != 43 {
		t.Fatalf("argon2 value %q", stored)
	}
}

// TestPBKDF2Format pins pw-pbkdf2's layout: iterations, then 16 bytes of
// salt and 64 of key in adapted base64 (no '+', no '=').
func TestPBKDF2Format(t *testing.T) {
	h, _ := NewHasher(SchemePBKDF2SHA512)
	for range 20 {
		stored, _ := h.Hash(NewSecret())
		parts := strings.Split(strings.TrimPrefix(stored, SchemePBKDF2SHA512), "$")
		if len(parts) != 3 || parts[0] != "10000" || len(parts[1]) != 22 || len(parts[2]) != 86 ||
			strings.ContainsAny(stored, "+=") {
			t.Fatalf("pbkdf2 value %q", stored)
		}
	}
}

func TestServerHashing(t *testing.T) {
	h, err := NewHasher(SchemeServerHashing)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := h.Hash("s3cret")
	if err != nil || stored != ClearPrefix+"s3cret" {
		t.Fatalf("Hash = %q, %v", stored, err)
	}
	if _, err := h.Hash(""); err == nil {
		t.Fatal("fail/empty secret accepted")
	}
	if ok, err := h.Verify("s3cret", stored); ok || !errors.Is(err, ErrVerifyByBind) {
		t.Fatalf("Verify = %v, %v; want false, ErrVerifyByBind", ok, err)
	}
}

func TestNewHasherUnknownScheme(t *testing.T) {
	for _, scheme := range []string{"{MD5}", "{CLEARTEXT}", "{ssha512}"} {
		if _, err := NewHasher(scheme); !errors.Is(err, ErrUnsupportedScheme) {
			t.Errorf("fail/%s: err = %v", scheme, err)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	for _, scheme := range []string{SchemeSSHA512, SchemePBKDF2SHA512, SchemeArgon2} {
		b.Run(strings.Trim(scheme, "{}"), func(b *testing.B) {
			h, _ := NewHasher(scheme)
			s := NewSecret()
			for b.Loop() {
				_, _ = h.Hash(s)
			}
		})
	}
}
