package client

import "time"

// Record is one registered client as a store keeps it: the metadata plus the
// server-side state that is never taken from a request. Secrets and the
// registration access token are held only as hashes.
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
	IssuedAt              time.Time
	// SecretExpiresAt is when the current secret expires; zero means never.
	SecretExpiresAt time.Time
	// Owner is who registered the client: the initial access token's caller.
	Owner Owner
	// Revision counts writes; stores use it for compare-and-swap updates and
	// bump it themselves.
	Revision uint64
	Disabled bool
	// ExpiresAt is when the whole registration lapses; zero means never.
	ExpiresAt time.Time
}

// SecretHash is one accepted client secret, hashed.
type SecretHash struct {
	Hash string
	// ExpiresAt is zero for the current secret and the end of the retention
	// period for a retained one.
	ExpiresAt time.Time
}

// Owner identifies the caller that registered a client.
type Owner struct {
	Issuer  string
	Subject string
	// TokenID identifies the initial access token used: its jti, or the
	// SHA-256 of an opaque token. It lets a deployment cap registrations per
	// token across replicas.
	TokenID string
}

// CurrentSecret returns the current secret hash, or "" for a public client.
func (r Record) CurrentSecret() string {
	if len(r.Secrets) == 0 {
		return ""
	}
	return r.Secrets[0].Hash
}
