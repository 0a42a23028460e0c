// Package store defines where registered clients live. Backends (memstore for
// development and tests, ldapstore for production) implement Store and prove
// it by passing the storetest conformance suite.
package store

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/dcrgate/dcrgate/client"
)

// Errors every backend returns, compared with errors.Is.
var (
	ErrNotFound      = errors.New("store: client not found")
	ErrAlreadyExists = errors.New("store: client already exists")
	// ErrConflict means an update lost the compare-and-swap race more times
	// than the backend retries.
	ErrConflict = errors.New("store: concurrent update conflict")
	// ErrUnavailable wraps failures to reach the backend (directory down,
	// pool exhausted, timeout): the caller may retry later.
	ErrUnavailable = errors.New("store: backend unavailable")
)

// Store keeps client records.
type Store interface {
	// Create adds a new record with Revision set to 1 by the store;
	// ErrAlreadyExists when the ID is taken.
	Create(ctx context.Context, r client.Record) error
	// Get returns the record; ErrNotFound when there is none.
	Get(ctx context.Context, id string) (client.Record, error)
	// Update reads the record, applies fn and writes the result only if no
	// other write happened in between, retrying fn on a lost race. fn may run
	// more than once, so it must derive the new record from the one it is
	// given. An error from fn aborts the update and is returned unchanged.
	// The store bumps Revision; the returned record is what was written.
	Update(ctx context.Context, id string, fn func(client.Record) (client.Record, error)) (client.Record, error)
	// Delete removes the record if cond, given the current record, returns
	// nil; cond's error is returned unchanged. ErrNotFound when missing.
	Delete(ctx context.Context, id string, cond func(client.Record) error) error
	// List returns records matching q, ordered by ID.
	List(ctx context.Context, q Query) ([]client.Record, error)
	// Ping checks that the backend is reachable.
	Ping(ctx context.Context) error
	Close() error
}

// Query selects records for List. Zero values select everything.
type Query struct {
	// OwnerSubject, when set, keeps only clients registered by this subject.
	OwnerSubject string
	// OwnerTokenID, when set, keeps only clients registered with this
	// initial access token.
	OwnerTokenID string
	// Limit caps the number of records; 0 means no limit.
	Limit int
}

// TokenDeleter is implemented by stores that can delete a client guarded by
// its registration access token hash in one operation (ldapstore: one LDAP
// Delete with the Assertion control), so no rotation can slip in between
// the check and the delete. A mismatch is ErrNotFound.
type TokenDeleter interface {
	DeleteIfTokenHash(ctx context.Context, id, tokenHash string) error
}

// ErrTokenMismatch means the registration access token hash of a guarded
// write differs from the stored one. Stores wrap it with ErrNotFound: to
// the caller there is no such client for that token (RFC 7592 §2: no
// oracle for which client IDs exist).
var ErrTokenMismatch = errors.New("store: registration access token does not match")

// TokenReplacer is implemented by stores that can apply an RFC 7592 §2.2
// full replacement guarded by the registration access token hash without
// reading the record first (ldapstore: one LDAP Modify with the Assertion,
// Post-Read and Modify-Increment extensions). A missing client or another
// token hash is ErrNotFound wrapping ErrTokenMismatch; nothing is written.
// The returned record is the one stored, its Revision bumped.
type TokenReplacer interface {
	ReplaceIfTokenHash(ctx context.Context, id, tokenHash string, rep Replacement) (client.Record, error)
}

// Replacement is everything an update writes when nothing in it depends on
// the stored record: the new metadata and credentials. The owner, issue
// time, expiry and disabled flag stay as stored.
type Replacement struct {
	Metadata client.Metadata
	// SecretHash becomes the only secret; "" makes the client public: no
	// secret and no secret expiry.
	SecretHash string
	// TokenHash, when set, replaces the registration access token hash.
	TokenHash string
}

// Apply writes rep into r, as a TokenReplacer does in the store.
func (rep Replacement) Apply(r *client.Record) {
	r.Metadata = rep.Metadata
	r.Secrets = nil
	if rep.SecretHash != "" {
		r.Secrets = []client.SecretHash{{Hash: rep.SecretHash}}
	} else {
		r.SecretExpiresAt = time.Time{}
	}
	if rep.TokenHash != "" {
		r.RegistrationTokenHash = rep.TokenHash
	}
}

// ReplaceFunc is the Update callback of ReplaceIfTokenHash for stores that
// have no one-operation form: check the token hash in constant time, then
// apply rep.
func ReplaceFunc(tokenHash string, rep Replacement) func(client.Record) (client.Record, error) {
	return func(r client.Record) (client.Record, error) {
		if tokenHash == "" || subtle.ConstantTimeCompare([]byte(r.RegistrationTokenHash), []byte(tokenHash)) != 1 {
			return r, fmt.Errorf("%w: %w", ErrNotFound, ErrTokenMismatch)
		}
		rep.Apply(&r)
		return r, nil
	}
}
