// Package credentials makes the values dcrgate hands out — client IDs, client
// secrets and registration access tokens — and the hashed forms it stores.
// Nothing here keeps a clear-text secret beyond the call that creates it.
package credentials

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
)

// secretBytes is the entropy of client secrets and registration access
// tokens: 256 bits, so a single fast salted hash is a sound way to store them
// (no dictionary to attack).
const secretBytes = 32

// clientIDBytes is the entropy of generated client IDs. IDs are not secret,
// but 128 random bits make them unguessable and collision-free in practice.
const clientIDBytes = 16

// lowerBase32 encodes IDs as lowercase, URL- and DN-safe text without padding.
var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewClientID returns a random client_id: 26 lowercase URL-safe characters.
func NewClientID() string {
	return lowerBase32.EncodeToString(random(clientIDBytes))
}

// NewSecret returns a random client secret (256 bits, base64url, 43 chars).
func NewSecret() string {
	return base64.RawURLEncoding.EncodeToString(random(secretBytes))
}

// NewRegistrationToken returns a random registration access token (RFC 7592
// §1.1), 256 bits, base64url.
func NewRegistrationToken() string {
	return base64.RawURLEncoding.EncodeToString(random(secretBytes))
}

// HashToken returns the stored form of a registration access token: SHA-256,
// lowercase hex. A 256-bit random token needs no salt or stretching.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// TokenMatches reports whether token hashes to storedHash, in constant time
// so response timing reveals nothing about the stored value.
func TokenMatches(token, storedHash string) bool {
	if storedHash == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(HashToken(token)), []byte(storedHash)) == 1
}

// random returns n bytes from the operating system's CSPRNG. crypto/rand.Read
// never fails on supported platforms (Go 1.24+ crashes the program instead),
// so there is no error to return.
func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// ValidClientID reports whether id has the shape of a client ID this gateway
// issues or accepts: 1 to 64 characters of lowercase letters, digits, '-'
// and '_'. IDs from request paths are checked against it before they are
// used anywhere, so no caller-chosen text ever reaches a DN or filter.
func ValidClientID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		if !isIDChar(c) {
			return false
		}
	}
	return true
}

func isIDChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}
