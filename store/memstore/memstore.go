// Package memstore is an in-memory store.Store for `dcrgate dev` and fast
// tests. It follows the same contract as the LDAP store, proven by the shared
// conformance suite, so behaviour seen in dev mode holds in production.
package memstore

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/store"
)

// Store keeps records in a map guarded by one mutex.
type Store struct {
	mu      sync.Mutex
	clients map[string]client.Record
}

var (
	_ store.Store         = (*Store)(nil)
	_ store.TokenReplacer = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	return &Store{clients: map[string]client.Record{}}
}

// tx runs fn under the lock, as dex's memory storage does: every method is one
// short critical section, which makes Update trivially atomic.
func (s *Store) tx(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn()
}

// Create implements store.Store.
func (s *Store) Create(_ context.Context, r client.Record) (err error) {
	s.tx(func() {
		if _, ok := s.clients[r.ID]; ok {
			err = store.ErrAlreadyExists
			return
		}
		r.Revision = 1
		s.clients[r.ID] = clone(r)
	})
	return err
}

// Get implements store.Store.
func (s *Store) Get(_ context.Context, id string) (r client.Record, err error) {
	s.tx(func() {
		stored, ok := s.clients[id]
		if !ok {
			err = store.ErrNotFound
			return
		}
		r = clone(stored)
	})
	return r, err
}

// Update implements store.Store. Holding the lock across fn means no write can
// interleave, so fn runs exactly once here.
func (s *Store) Update(_ context.Context, id string, fn func(client.Record) (client.Record, error)) (updated client.Record, err error) {
	s.tx(func() {
		old, ok := s.clients[id]
		if !ok {
			err = store.ErrNotFound
			return
		}
		updated, err = fn(clone(old))
		if err != nil {
			return
		}
		updated.ID = id
		updated.Revision = old.Revision + 1
		s.clients[id] = clone(updated)
	})
	return updated, err
}

// Delete implements store.Store.
func (s *Store) Delete(_ context.Context, id string, cond func(client.Record) error) (err error) {
	s.tx(func() {
		r, ok := s.clients[id]
		if !ok {
			err = store.ErrNotFound
			return
		}
		if cond != nil {
			if err = cond(clone(r)); err != nil {
				return
			}
		}
		delete(s.clients, id)
	})
	return err
}

// List implements store.Store.
func (s *Store) List(_ context.Context, q store.Query) (out []client.Record, _ error) {
	s.tx(func() {
		for _, r := range s.clients {
			if matches(r, q) {
				out = append(out, clone(r))
			}
		}
	})
	slices.SortFunc(out, func(a, b client.Record) int { return strings.Compare(a.ID, b.ID) })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// Ping implements store.Store; memory is always reachable.
func (s *Store) Ping(context.Context) error { return nil }

// Close implements store.Store.
func (s *Store) Close() error { return nil }

// matches reports whether r passes q's filters.
func matches(r client.Record, q store.Query) bool {
	return (q.OwnerSubject == "" || r.Owner.Subject == q.OwnerSubject) &&
		(q.OwnerTokenID == "" || r.Owner.TokenID == q.OwnerTokenID)
}

// clone deep-copies a record so callers can never alias stored slices or maps.
// A JSON-free copy keeps the memory store fast for benchmarks.
func clone(r client.Record) client.Record {
	r.Secrets = slices.Clone(r.Secrets)
	r.Metadata = r.Metadata.Clone()
	return r
}

// ReplaceIfTokenHash implements store.TokenReplacer: Update holds the lock,
// so the check and the write are one step here too.
func (s *Store) ReplaceIfTokenHash(ctx context.Context, id, tokenHash string, rep store.Replacement) (client.Record, error) {
	return s.Update(ctx, id, store.ReplaceFunc(tokenHash, rep))
}
