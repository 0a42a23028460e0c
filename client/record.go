package client

import (
	"bytes"
	"encoding/json"
	"slices"
	"time"
)

// Record is one registered client as a store keeps it: the metadata plus the
// server-side state that is never taken from a request. Secrets and the
// registration access tokens are held only as hashes.
type Record struct {
	// ID is the client_id.
	ID       string
	Metadata Metadata
	// Secrets holds the client secret hashes in the directory's scheme
	// (e.g. "{SSHA512}..."): the current one first, then any retained after a
	// rotation, each with the time it stops being accepted.
	Secrets []SecretHash
	// RegistrationTokenHash is SHA-256 of the registration access token,
	// lowercase hex; empty when management is disabled.
	RegistrationTokenHash string
	// PreviousToken is the registration access token the last rotation
	// replaced. It stays accepted for a short grace period, so that a
	// client whose answer was lost (a directory stall, a dropped
	// connection) is not locked out with a token that no longer works.
	PreviousToken PreviousToken
	IssuedAt      time.Time
	// SecretExpiresAt is when the current secret expires; zero means never.
	SecretExpiresAt time.Time
	// Owner is who registered the client: the initial access token's caller.
	Owner Owner
	// Statement is the verified software statement the client was
	// registered (or last updated) with; nil when there was none.
	Statement *Statement
	// Revision counts writes; stores use it for compare-and-swap updates and
	// bump it themselves.
	Revision uint64
	// Disabled clients are refused by dcrgate and, since their secret
	// hashes are kept out of userPassword, by the directory's bind: awaiting
	// an administrator's approval, or disabled by one. DisabledReason says
	// which, for people.
	Disabled       bool
	DisabledReason string
	// ExpiresAt is when the whole registration lapses unless renewed by
	// use; zero means never.
	ExpiresAt time.Time
	// LastUsedAt is when the client was last read or updated through RFC
	// 7592, to the day; zero means never since its registration.
	LastUsedAt time.Time
	// LastBindAt is when the directory last accepted the client's secret
	// (OpenLDAP's lastbind overlay); zero when unknown. The directory
	// keeps it: stores read it and never write it.
	LastBindAt time.Time
	// Defaulted names the metadata members the client configuration
	// defaults filled in because the request omitted them.
	Defaulted []string
}

// SecretHash is one accepted client secret, hashed.
type SecretHash struct {
	Hash string
	// ExpiresAt is zero for the current secret and the end of the retention
	// period for a retained one.
	ExpiresAt time.Time
}

// PreviousToken is a replaced registration access token, hashed, and when
// it stops being accepted. The zero value is no previous token.
type PreviousToken struct {
	Hash      string
	ExpiresAt time.Time
}

// ValidAt reports whether the previous token is still accepted at now.
func (p PreviousToken) ValidAt(now time.Time) bool {
	return p.Hash != "" && now.Before(p.ExpiresAt)
}

// Owner identifies the caller that registered a client: the principal of
// its initial access token, kept so that every update is judged by the
// registration policies as that caller, never as someone with more rights.
type Owner struct {
	Issuer  string
	Subject string
	// TokenID identifies the initial access token used: its jti, or the
	// SHA-256 of an opaque token. It lets a deployment cap registrations per
	// token across replicas.
	TokenID string
	// ClientID is the token's client_id claim: the OAuth client that
	// obtained the initial access token.
	ClientID string
	// Scopes are the token's scopes.
	Scopes []string
	// Claims are all claims of the token as one JSON object, for policies
	// that read them; nil when there were none.
	Claims json.RawMessage
	// Anonymous marks a client the anonymous profile admitted, with no
	// initial access token: its updates are judged by that profile too.
	Anonymous bool
}

// Statement is a verified software statement (RFC 7591 §2.3) as a client
// keeps it: what its issuer fixed, so that an update cannot change it
// without presenting a new statement.
type Statement struct {
	// Issuer is the statement's "iss".
	Issuer string
	// Claims are the statement's metadata claims as one JSON object: the
	// values that take precedence over the request's.
	Claims json.RawMessage
	// Scopes are the most the issuer grants a client; empty: no limit.
	Scopes []string
	// Defaults are the issuer's default metadata, a JSON object, that
	// applied when the statement was verified.
	Defaults json.RawMessage
}

// CurrentSecret returns the current secret hash, or "" for a public client.
func (r Record) CurrentSecret() string {
	if len(r.Secrets) == 0 {
		return ""
	}
	return r.Secrets[0].Hash
}

// Clone returns a deep copy, so a store can hand out records without
// sharing slices, maps or JSON with what it keeps.
func (r Record) Clone() Record {
	r.Metadata = r.Metadata.Clone()
	r.Secrets = slices.Clone(r.Secrets)
	r.Owner.Scopes = slices.Clone(r.Owner.Scopes)
	r.Owner.Claims = bytes.Clone(r.Owner.Claims)
	r.Defaulted = slices.Clone(r.Defaulted)
	if r.Statement != nil {
		st := *r.Statement
		st.Claims, st.Defaults, st.Scopes = bytes.Clone(st.Claims), bytes.Clone(st.Defaults), slices.Clone(st.Scopes)
		r.Statement = &st
	}
	return r
}
