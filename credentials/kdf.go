package credentials

import (
	"crypto/pbkdf2"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// argon2Params are the argon2id costs; memory in KiB.
type argon2Params struct {
	time, memory uint32
	threads      uint8
}

// defaultArgon2 are the defaults of OpenLDAP's argon2 module (t=3, 4 MiB,
// one lane): libsodium, which Debian's module uses, only verifies one lane.
var defaultArgon2 = argon2Params{time: 3, memory: 4096, threads: 1}

const (
	argon2SaltBytes = 16
	argon2KeyBytes  = 32
	// pbkdf2Iterations is pw-pbkdf2's default iteration count.
	pbkdf2Iterations = 10000
	pbkdf2SaltBytes  = 16
)

// argon2id writes {ARGON2}$argon2id$v=19$m=M,t=T,p=P$salt$hash, salt and
// hash in unpadded standard base64 (the PHC string format, which slapd's
// argon2 module passes to libsodium/libargon2 as is).
type argon2id struct{ p argon2Params }

func (a argon2id) Hash(secret string) (string, error) {
	salt := random(argon2SaltBytes)
	return a.encode(a.p, salt, a.key(secret, a.p, salt, argon2KeyBytes)), nil
}

func (argon2id) key(secret string, p argon2Params, salt []byte, n uint32) []byte {
	return argon2.IDKey([]byte(secret), salt, p.time, p.memory, p.threads, n)
}

func (argon2id) encode(p argon2Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("%s$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", SchemeArgon2, argon2.Version,
		p.memory, p.time, p.threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify recomputes the key with the stored parameters. Parameters are
// bounded so a planted value cannot make a check cost gigabytes.
func (a argon2id) Verify(secret, stored string) (bool, error) {
	rest, ok := strings.CutPrefix(stored, SchemeArgon2)
	if !ok {
		return false, ErrUnsupportedScheme
	}
	var p argon2Params
	var version int
	parts := strings.Split(rest, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, malformed(SchemeArgon2)
	}
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, malformed(SchemeArgon2)
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil ||
		p.time == 0 || p.time > 16 || p.memory < 8 || p.memory > 1<<20 || p.threads == 0 {
		return false, malformed(SchemeArgon2)
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(key) > 64 {
		return false, malformed(SchemeArgon2)
	}
	got := a.key(secret, p, salt, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// pbkdf2SHA512 writes {PBKDF2-SHA512}<iterations>$<salt>$<key> with salt and
// key in pw-pbkdf2's "adapted base64": standard alphabet, '+' written as
// '.', no padding (as passlib's pbkdf2 hashes).
type pbkdf2SHA512 struct{ iterations int }

var ab64 = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789./").WithPadding(base64.NoPadding)

func (h pbkdf2SHA512) Hash(secret string) (string, error) {
	salt := random(pbkdf2SaltBytes)
	key, err := pbkdf2.Key(sha512.New, secret, salt, h.iterations, sha512.Size)
	if err != nil {
		return "", fmt.Errorf("credentials: %s: %w", SchemePBKDF2SHA512, err)
	}
	return SchemePBKDF2SHA512 + strconv.Itoa(h.iterations) + "$" + ab64.EncodeToString(salt) + "$" + ab64.EncodeToString(key), nil
}

func (pbkdf2SHA512) Verify(secret, stored string) (bool, error) {
	rest, ok := strings.CutPrefix(stored, SchemePBKDF2SHA512)
	if !ok {
		return false, ErrUnsupportedScheme
	}
	parts := strings.Split(rest, "$")
	if len(parts) != 3 {
		return false, malformed(SchemePBKDF2SHA512)
	}
	iterations, err := strconv.Atoi(parts[0])
	salt, err1 := ab64.DecodeString(parts[1])
	key, err2 := ab64.DecodeString(parts[2])
	if err != nil || err1 != nil || err2 != nil || iterations < 1 || iterations > 1_000_000 ||
		len(salt) == 0 || len(key) != sha512.Size {
		return false, malformed(SchemePBKDF2SHA512)
	}
	got, err := pbkdf2.Key(sha512.New, secret, salt, iterations, sha512.Size)
	if err != nil {
		return false, fmt.Errorf("credentials: %s: %w", SchemePBKDF2SHA512, err)
	}
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}
