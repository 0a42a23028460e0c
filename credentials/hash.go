package credentials

import (
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// SchemeSSHA512 is the default secret scheme: salted SHA-512 as OpenLDAP's
// pw-sha2 module verifies it, so the AS can check a client secret with a
// plain LDAP bind as the client's entry.
const SchemeSSHA512 = "{SSHA512}"

// ErrUnsupportedScheme is returned for a hash whose {SCHEME} prefix is unknown.
var ErrUnsupportedScheme = errors.New("credentials: unsupported secret hash scheme")

const sshaSaltBytes = 16

// Hasher turns client secrets into the userPassword values the directory
// verifies on bind.
type Hasher interface {
	// Hash returns the stored form of secret, prefixed by its scheme.
	Hash(secret string) (string, error)
	// Verify reports whether secret matches the stored form, in constant time.
	Verify(secret, stored string) (bool, error)
}

// NewHasher returns the Hasher for a scheme name such as "{SSHA512}".
func NewHasher(scheme string) (Hasher, error) {
	switch scheme {
	case "", SchemeSSHA512:
		return ssha512{}, nil
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedScheme, scheme)
	}
}

// ssha512 is RFC 2307-style {SSHA512}: base64(SHA-512(secret || salt) || salt).
type ssha512 struct{}

func (ssha512) Hash(secret string) (string, error) {
	salt := random(sshaSaltBytes)
	return SchemeSSHA512 + base64.StdEncoding.EncodeToString(sshaDigest(secret, salt)), nil
}

func (ssha512) Verify(secret, stored string) (bool, error) {
	encoded, ok := strings.CutPrefix(stored, SchemeSSHA512)
	if !ok {
		return false, ErrUnsupportedScheme
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil || len(raw) <= sha512.Size {
		return false, fmt.Errorf("credentials: malformed %s value", SchemeSSHA512)
	}
	want := sshaDigest(secret, raw[sha512.Size:])
	return subtle.ConstantTimeCompare(want, raw) == 1, nil
}

// sshaDigest returns SHA-512(secret || salt) || salt.
func sshaDigest(secret string, salt []byte) []byte {
	h := sha512.New()
	h.Write([]byte(secret))
	h.Write(salt)
	return append(h.Sum(nil), salt...)
}
