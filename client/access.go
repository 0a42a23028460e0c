package client

import (
	"crypto/subtle"
	"time"
)

// TokenMatch says which of a client's registration access tokens a
// presented one is.
type TokenMatch int

// The outcomes of Record.MatchToken.
const (
	// NoTokenMatch: neither the current token nor a previous one in grace.
	NoTokenMatch TokenMatch = iota
	// CurrentTokenMatch: the token the last write issued.
	CurrentTokenMatch
	// PreviousTokenMatch: the token a rotation replaced, still in its grace
	// period because its holder may never have received the new one.
	PreviousTokenMatch
)

// MatchToken reports which of r's registration access tokens has the hash
// tokenHash at now. Both hashes are compared in constant time whatever the
// outcome, so timing tells nothing about which one matched.
func (r Record) MatchToken(tokenHash string, now time.Time) TokenMatch {
	current := sameHash(r.RegistrationTokenHash, tokenHash)
	previous := sameHash(r.PreviousToken.Hash, tokenHash) && r.PreviousToken.ValidAt(now)
	switch {
	case tokenHash == "":
		return NoTokenMatch
	case current:
		return CurrentTokenMatch
	case previous:
		return PreviousTokenMatch
	}
	return NoTokenMatch
}

// Active reports whether r may be used at now: not disabled and not past
// its lifetime. dcrgate answers for an inactive client as for an unknown
// one, and the authorization server must refuse it (docs/directories.md).
func (r Record) Active(now time.Time) bool {
	return !r.Disabled && (r.ExpiresAt.IsZero() || now.Before(r.ExpiresAt))
}

// Manageable reports whether the holder of the registration access token
// hashed as tokenHash may read, update or delete r at now (RFC 7592 §2):
// the client is active and the token is its current one or the previous
// one in grace.
func (r Record) Manageable(tokenHash string, now time.Time) bool {
	return r.MatchToken(tokenHash, now) != NoTokenMatch && r.Active(now)
}

func sameHash(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
