// Package memstore is an in-memory store.Store for `dcrgate dev` and fast
// tests. It follows the same contract as the LDAP store, proven by the shared
// conformance suite, so behaviour seen in dev mode holds in production.
package memstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/store"
)

// maxAttempts bounds Update's compare-and-swap loop, as in ldapstore.
const maxAttempts = 5

// Store keeps records in a map guarded by one mutex.
type Store struct {
	mu      sync.Mutex
	clients map[string]client.Record
}

var (
	_ store.Store        = (*Store)(nil)
	_ store.TokenDeleter = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	return &Store{clients: map[string]client.Record{}}
}

// tx runs fn under the lock, as dex's memory storage does: every method is one
// short critical section.
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
		s.clients[r.ID] = r.Clone()
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
		r = stored.Clone()
	})
	return r, err
}

// Update implements store.Store as compare-and-swap, like the directory:
// fn runs outside the lock on a copy, and its result is written only if
// the revision it saw is still the stored one. fn never holds the lock,
// so however long it takes, other clients are not held up.
func (s *Store) Update(ctx context.Context, id string, fn func(client.Record) (client.Record, error)) (client.Record, error) {
	for range maxAttempts {
		cur, err := s.Get(ctx, id)
		if err != nil {
			return client.Record{}, err
		}
		next, err := fn(cur.Clone())
		if err != nil {
			return client.Record{}, err
		}
		next.ID, next.Revision = id, cur.Revision+1
		if written, err := s.swap(cur.Revision, next); !errors.Is(err, errLostRace) {
			return written, err
		}
	}
	return client.Record{}, store.ErrConflict
}

var errLostRace = errors.New("memstore: revision changed")

// swap writes next if the stored record is still at revision.
func (s *Store) swap(revision uint64, next client.Record) (written client.Record, err error) {
	s.tx(func() {
		stored, ok := s.clients[next.ID]
		switch {
		case !ok:
			err = store.ErrNotFound
		case stored.Revision != revision:
			err = errLostRace
		default:
			s.clients[next.ID] = next.Clone()
			written = next.Clone()
		}
	})
	return written, err
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
			if err = cond(r.Clone()); err != nil {
				return
			}
		}
		delete(s.clients, id)
	})
	return err
}

// DeleteIfManageable implements store.TokenDeleter.
func (s *Store) DeleteIfManageable(ctx context.Context, id, tokenHash string, now time.Time) (owner client.Owner, _ error) {
	return owner, s.Delete(ctx, id, func(r client.Record) error {
		if !r.Manageable(tokenHash, now) {
			return fmt.Errorf("%w: %w", store.ErrNotFound, store.ErrTokenMismatch)
		}
		owner = r.Owner
		return nil
	})
}

// Count implements store.Store.
func (s *Store) Count(_ context.Context, q store.Query, limit int) (n int, _ error) {
	s.tx(func() {
		for _, r := range s.clients {
			if n >= limit {
				return
			}
			if q.Matches(r) {
				n++
			}
		}
	})
	return n, nil
}

// Walk implements store.Store. The matches are copied out first, so fn
// runs without the lock and may use the store.
func (s *Store) Walk(ctx context.Context, q store.Query, fn func(client.Record) error) error {
	var matched []client.Record
	s.tx(func() {
		for _, r := range s.clients {
			if q.Matches(r) {
				matched = append(matched, r.Clone())
			}
		}
	})
	for _, r := range matched {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(r); err != nil {
			if errors.Is(err, store.ErrStopWalk) {
				return nil
			}
			return err
		}
	}
	return nil
}

// Ping implements store.Store; memory is always reachable.
func (s *Store) Ping(context.Context) error { return nil }

// Close implements store.Store.
func (s *Store) Close() error { return nil }
