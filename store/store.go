// Package store defines where registered clients live. Backends (memstore for
// development and tests, ldapstore for production) implement Store and prove
// it by passing the storetest conformance suite.
package store

import (
	"context"
	"errors"
	"strings"
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
	// more than once, also on a record the store remembers rather than one
	// it has just read (the write is then guarded by that record's
	// revision), so it must derive the new record from the one it is given
	// and must not call the store. An error from fn aborts the update and is
	// returned unchanged; a store that ran fn on a remembered record runs it
	// again on the stored one before answering with its error. The store
	// bumps Revision; the returned record is what was written.
	Update(ctx context.Context, id string, fn func(client.Record) (client.Record, error)) (client.Record, error)
	// Delete removes the record if cond, given the current record, returns
	// nil; cond's error is returned unchanged. ErrNotFound when missing.
	Delete(ctx context.Context, id string, cond func(client.Record) error) error
	// Count returns how many records match q, counting no further than
	// limit: an answer of limit means "limit or more". It never reads the
	// records themselves, so its cost is bounded by limit however many
	// match, and it stops when ctx ends.
	Count(ctx context.Context, q Query, limit int) (int, error)
	// Walk calls fn with every record matching q, in no particular order,
	// holding one page of records at a time, so memory stays bounded
	// however many match. fn may use the store. An error from fn ends the
	// walk and is returned; ErrStopWalk ends it early without error.
	Walk(ctx context.Context, q Query, fn func(client.Record) error) error
	// Ping checks that the backend is reachable.
	Ping(ctx context.Context) error
	Close() error
}

// ErrStopWalk ends a Walk early without an error.
var ErrStopWalk = errors.New("store: stop walking")

// Query selects records for Count and Walk. Zero values select
// everything; the fields that are set must all match. Times are compared
// to the second, as directories keep them.
type Query struct {
	// OwnerIssuer and OwnerSubject keep only clients registered by this
	// caller (the initial access token's issuer and subject).
	OwnerIssuer  string
	OwnerSubject string
	// OwnerTokenID keeps only clients registered with this initial access
	// token.
	OwnerTokenID string
	// NameContains keeps clients whose client_name contains it, ignoring
	// case.
	NameContains string
	// CreatedAfter and CreatedBefore keep clients issued at or after, and
	// before, these times.
	CreatedAfter, CreatedBefore time.Time
	// ExpiredAt keeps clients whose lifetime had ended at this time.
	ExpiredAt time.Time
	// SecretExpiredAt keeps clients whose current secret had expired at
	// this time.
	SecretExpiredAt time.Time
	// Disabled keeps disabled clients only.
	Disabled bool
	// Kind keeps public clients or those with a secret only.
	Kind Kind
	// UnusedSince keeps clients issued before it and neither read nor
	// updated through RFC 7592 since.
	UnusedSince time.Time
	// NotBoundSince keeps clients issued before it that the directory saw
	// bind with their secret neither since nor ever (its last-bind
	// record). A directory that keeps no such record selects nothing;
	// memstore, which never binds, selects every client: check Bound first.
	NotBoundSince time.Time
	// Bound keeps clients the directory saw bind at least once.
	Bound bool
	// Lingering keeps clients holding what a rotation kept for a while:
	// retained secrets or a previous registration access token.
	Lingering bool
}

// Kind is a kind of client for Query.
type Kind string

// The kinds; the zero Kind selects every client.
const (
	// Public clients authenticate with nothing (token_endpoint_auth_method
	// none).
	Public Kind = "public"
	// SecretBased clients authenticate with a client secret
	// (client_secret_basic, client_secret_post): those a directory bind
	// verifies.
	SecretBased Kind = "secret"
)

// Matches reports whether r passes q, for stores that filter in Go; the
// LDAP store sends the same rules as a filter.
func (q Query) Matches(r client.Record) bool {
	return (q.OwnerIssuer == "" || r.Owner.Issuer == q.OwnerIssuer) &&
		(q.OwnerSubject == "" || r.Owner.Subject == q.OwnerSubject) &&
		(q.OwnerTokenID == "" || r.Owner.TokenID == q.OwnerTokenID) &&
		(q.NameContains == "" || strings.Contains(strings.ToLower(r.Metadata.ClientName), strings.ToLower(q.NameContains))) &&
		(q.CreatedAfter.IsZero() || !r.IssuedAt.Before(second(q.CreatedAfter))) &&
		(q.CreatedBefore.IsZero() || r.IssuedAt.Before(second(q.CreatedBefore))) &&
		(q.ExpiredAt.IsZero() || !r.ExpiresAt.IsZero() && !r.ExpiresAt.After(second(q.ExpiredAt))) &&
		(!q.Disabled || r.Disabled) &&
		(q.Kind != Public || r.Metadata.TokenEndpointAuthMethod == client.AuthNone) &&
		(q.Kind != SecretBased || r.Metadata.IsConfidential()) &&
		(q.SecretExpiredAt.IsZero() || !r.SecretExpiresAt.IsZero() && !r.SecretExpiresAt.After(second(q.SecretExpiredAt))) &&
		(q.UnusedSince.IsZero() || before(r.IssuedAt, q.UnusedSince) && before(r.LastUsedAt, q.UnusedSince)) &&
		(q.NotBoundSince.IsZero() || before(r.IssuedAt, q.NotBoundSince) && before(r.LastBindAt, q.NotBoundSince)) &&
		(!q.Bound || !r.LastBindAt.IsZero()) &&
		(!q.Lingering || len(r.Secrets) > 1 || r.PreviousToken.Hash != "")
}

// second is t to the second, as directories compare it.
func second(t time.Time) time.Time { return t.Truncate(time.Second) }

// before reports whether t (zero: never) is before limit.
func before(t, limit time.Time) bool { return t.Before(second(limit)) }

// TokenDeleter is implemented by stores that can delete a client guarded by
// its registration access token in one operation (ldapstore: one LDAP
// Delete with the Assertion control), so no rotation can slip in between
// the check and the delete. It deletes only a client that
// client.Record.Manageable allows for tokenHash at now; any other answer is
// ErrNotFound wrapping ErrTokenMismatch. It returns the deleted client's
// owner when it knows it without another round trip (for the audit trail).
type TokenDeleter interface {
	DeleteIfManageable(ctx context.Context, id, tokenHash string, now time.Time) (client.Owner, error)
}

// ErrTokenMismatch means the registration access token hash of a guarded
// write differs from the stored ones, or the client may not be managed.
// Stores wrap it with ErrNotFound: to the caller there is no such client
// for that token (RFC 7592 §2: no oracle for which client IDs exist).
var ErrTokenMismatch = errors.New("store: registration access token does not match")
