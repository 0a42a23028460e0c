// Package store defines where registered clients live. Backends (memstore for
// development and tests, ldapstore for production) implement Store and prove
// it by passing the storetest conformance suite.
package store

import (
	"context"
	"errors"

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
