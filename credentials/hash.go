package credentials

import (
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Secret schemes: the userPassword formats a directory verifies on bind, so
// the AS can check a client secret with a plain LDAP bind as the client's
// entry (RFC 4513 §5.1.1).
//
// All client secrets are 256 random bits (NewSecret): there is no
// dictionary to attack, so one fast salted hash is as strong as a slow KDF.
// The KDF schemes exist for directories whose policy demands them; their
// cost is paid on every hash here and on every bind at the AS. Measured with
// `go test ./credentials -run x -bench Hash` on the project's 2-core
// machine:
//
//	{SSHA512}          0.56 µs per hash, 592 B
//	{PBKDF2-SHA512}    4.6 ms  (10,000 iterations, pw-pbkdf2's default)
//	{ARGON2}           6.7 ms, 4 MiB (argon2id t=3 m=4096 p=1, slapd argon2's defaults)
//
// so a KDF scheme caps one core at roughly 150-200 registrations or
// rotations per second, and the directory pays the same on every bind.
const (
	// SchemeSSHA512 is the default: salted SHA-512 as OpenLDAP's pw-sha2
	// module verifies it.
	SchemeSSHA512 = "{SSHA512}"
	// SchemeArgon2 is argon2id in the PHC string format OpenLDAP's argon2
	// module verifies.
	SchemeArgon2 = "{ARGON2}"
	// SchemePBKDF2SHA512 is PBKDF2-HMAC-SHA512 in the format of OpenLDAP's
	// contrib pw-pbkdf2 module (Debian's slapd-contrib).
	SchemePBKDF2SHA512 = "{PBKDF2-SHA512}"
	// SchemeServerHashing sends the clear secret to directories that hash
	// userPassword on write (389-DS, PingDS, OpenLDAP with ppolicy's
	// olcPPolicyHashCleartext). It needs TLS, and secrets can then only be
	// verified by the directory: Verify answers ErrVerifyByBind.
	SchemeServerHashing = "cleartext-for-server-hashing"
	// ClearPrefix marks the stored form of SchemeServerHashing: the store
	// strips it and writes the rest, which the directory hashes. It is never
	// written as is.
	ClearPrefix = "{CLEARTEXT}"
)

var (
	// ErrUnsupportedScheme is returned for a hash whose {SCHEME} prefix is unknown.
	ErrUnsupportedScheme = errors.New("credentials: unsupported secret hash scheme")
	// ErrVerifyByBind means the stored form cannot be checked here (the
	// directory hashed it with a scheme of its choice): verify the secret
	// with an LDAP bind as the client instead.
	ErrVerifyByBind = errors.New("credentials: secret can only be verified by the directory")
)

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
	case SchemeArgon2:
		return argon2id{defaultArgon2}, nil
	case SchemePBKDF2SHA512:
		return pbkdf2SHA512{iterations: pbkdf2Iterations}, nil
	case SchemeServerHashing:
		return serverHashing{}, nil
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
		return false, malformed(SchemeSSHA512)
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

func malformed(scheme string) error {
	return fmt.Errorf("credentials: malformed %s value", scheme)
}

// serverHashing hands the clear secret to the directory, marked so that no
// layer mistakes it for a hash (see SchemeServerHashing).
type serverHashing struct{}

func (serverHashing) Hash(secret string) (string, error) {
	if secret == "" {
		return "", errors.New("credentials: empty secret")
	}
	return ClearPrefix + secret, nil
}

func (serverHashing) Verify(string, string) (bool, error) { return false, ErrVerifyByBind }
