package ldapstore

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/store"
	"github.com/dcrgate/dcrgate/store/storetest"
)

// withoutControls makes s behave as against a directory that offers
// neither Assertion nor Post-Read.
func withoutControls(s *Store) *Store {
	s.assertion.Store(false)
	s.postRead.Store(false)
	s.increment.Store(false)
	return s
}

// withoutMemory makes s forget its own writes, as a store whose entries
// another process wrote last: every update takes the ordinary path.
func withoutMemory(s *Store) *Store {
	s.known = nil
	return s
}

// TestConformanceWithoutControls runs the suite on the portable
// compare-and-swap path.
func TestConformanceWithoutControls(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := newStore(t)
		return withoutControls(s)
	})
}

// TestConformanceWithoutMemory runs the suite with no remembered writes,
// with and without the controls, so the updates that read the entry or
// ask Post-Read for it are covered as fully as those that need neither.
func TestConformanceWithoutMemory(t *testing.T) {
	for name, edit := range map[string]func(*Store) *Store{"controls": withoutMemory,
		"no controls": func(s *Store) *Store { return withoutControls(withoutMemory(s)) }} {
		t.Run(name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Store {
				s, _ := newStore(t)
				return edit(s)
			})
		})
	}
}

func TestRootDSEControls(t *testing.T) {
	s, _ := newStore(t)
	if !s.assertion.Load() || !s.postRead.Load() || !s.increment.Load() {
		t.Fatalf("slapd offers Assertion, Post-Read and Modify-Increment; store saw assertion=%v post-read=%v increment=%v",
			s.assertion.Load(), s.postRead.Load(), s.increment.Load())
	}
}

// opCounter reads dcrgate_ldap_operations_total from a real registry.
type opCounter struct {
	t   *testing.T
	reg *prometheus.Registry
}

// counts returns the requests sent so far by operation, all results.
func (c opCounter) counts() map[string]int {
	c.t.Helper()
	families, err := c.reg.Gather()
	if err != nil {
		c.t.Fatal(err)
	}
	out := map[string]int{}
	for _, f := range families {
		if f.GetName() != "dcrgate_ldap_operations_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "operation" {
					out[l.GetValue()] += int(m.GetCounter().GetValue())
				}
			}
		}
	}
	return out
}

// countingStore is a store over a fresh OU that reports its LDAP requests.
func countingStore(t *testing.T, controls bool) (*Store, opCounter) {
	t.Helper()
	reg := prometheus.NewRegistry()
	s := storeAt(t, server(t), func(c *Config) { c.Registerer = reg })
	if !controls {
		withoutControls(s)
	}
	return s, opCounter{t: t, reg: reg}
}

// TestRoundTrips counts the LDAP requests of each store call on a warm
// pool and fails on any extra one: the budget is the design, not a
// measurement.
func TestRoundTrips(t *testing.T) {
	rotate := func(r client.Record) (client.Record, error) {
		r.RegistrationTokenHash = "0000000000000000000000000000000000000000000000000000000000000002"
		return r, nil
	}
	type call struct {
		name string
		run  func(*Store, client.Record) error
		// want with the controls, and without them.
		want, fallback map[string]int
		// remembered keeps the store's memory of creating the record;
		// otherwise it is forgotten, as if another process wrote it.
		remembered bool
	}
	calls := []call{
		{"create", func(s *Store, r client.Record) error { return s.Create(t.Context(), storetest.NewRecord("other")) },
			map[string]int{opAdd: 1}, map[string]int{opAdd: 1}, false},
		{"get", func(s *Store, r client.Record) error { _, err := s.Get(t.Context(), r.ID); return err },
			map[string]int{opSearch: 1}, map[string]int{opSearch: 1}, false},
		{"count", func(s *Store, r client.Record) error { _, err := s.Count(t.Context(), store.Query{}, 10); return err },
			map[string]int{opSearch: 1}, map[string]int{opSearch: 1}, false},
		{"walk, on a connection of its own", func(s *Store, r client.Record) error {
			return s.Walk(t.Context(), store.Query{}, func(client.Record) error { return nil })
		}, map[string]int{opBind: 1, opSearch: 1}, map[string]int{opBind: 1, opSearch: 1}, false},
		{"update", func(s *Store, r client.Record) error { _, err := s.Update(t.Context(), r.ID, rotate); return err },
			map[string]int{opSearch: 1, opModify: 1}, map[string]int{opSearch: 1, opModify: 1}, false},
		{"update, written here", func(s *Store, r client.Record) error { _, err := s.Update(t.Context(), r.ID, rotate); return err },
			map[string]int{opModify: 1}, map[string]int{opModify: 1}, true},
		{"update refused, written here", func(s *Store, r client.Record) error {
			_, err := s.Update(t.Context(), r.ID, replacement(tokenA, "x", "https://x.example.com/cb", ""))
			if !errors.Is(err, store.ErrTokenMismatch) {
				return fmt.Errorf("wrong token: %v", err)
			}
			return nil
		}, map[string]int{opSearch: 1}, map[string]int{opSearch: 1}, true},
		{"delete with condition", func(s *Store, r client.Record) error {
			return s.Delete(t.Context(), r.ID, func(client.Record) error { return nil })
		}, map[string]int{opSearch: 1, opDelete: 1}, map[string]int{opSearch: 1, opDelete: 1}, false},
		{"delete if manageable", func(s *Store, r client.Record) error {
			_, err := s.DeleteIfManageable(t.Context(), r.ID, r.RegistrationTokenHash, time.Now())
			return err
		}, map[string]int{opDelete: 1}, map[string]int{opSearch: 1, opDelete: 1}, false},
	}
	for _, controls := range []bool{true, false} {
		for _, c := range calls {
			t.Run(map[bool]string{true: "controls/", false: "fallback/"}[controls]+c.name, func(t *testing.T) {
				s, counter := countingStore(t, controls)
				r := storetest.NewRecord("counted")
				if err := s.Create(t.Context(), r); err != nil {
					t.Fatal(err)
				}
				if !c.remembered {
					s.known.forget(r.ID)
				}
				before := counter.counts()
				if err := c.run(s, r); err != nil {
					t.Fatal(err)
				}
				got := map[string]int{}
				for op, n := range counter.counts() {
					if d := n - before[op]; d > 0 {
						got[op] = d
					}
				}
				want := c.want
				if !controls {
					want = c.fallback
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("LDAP requests %v, want %v", got, want)
				}
			})
		}
	}
}

// TestUpdateReturnsPostRead: the record Update returns is the entry the
// server holds after the write.
func TestUpdateReturnsPostRead(t *testing.T) {
	for _, controls := range []bool{true, false} {
		s, _ := countingStore(t, controls)
		r := storetest.NewRecord("postread")
		if err := s.Create(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		written, err := s.Update(t.Context(), r.ID, func(r client.Record) (client.Record, error) {
			r.Metadata.ClientName = "Renamed"
			return r, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(t.Context(), r.ID)
		if err != nil || !reflect.DeepEqual(written, got) || got.Revision != 2 || got.Metadata.ClientName != "Renamed" {
			t.Fatalf("controls=%v: Update returned %+v\nGet returns %+v (%v)", controls, written, got, err)
		}
	}
}

// TestDeleteIfManageable: one asserted Delete, which a wrong or rotated
// token cannot pass (the rest of the rule is in the conformance suite).
func TestDeleteIfManageable(t *testing.T) {
	for _, controls := range []bool{true, false} {
		s, _ := countingStore(t, controls)
		r := storetest.NewRecord("deleter")
		if err := s.Create(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, id, hash string
			wantErr        error
		}{
			{"fail/other token", r.ID, "0000000000000000000000000000000000000000000000000000000000000009", store.ErrTokenMismatch},
			{"fail/empty token hash", r.ID, "", store.ErrTokenMismatch},
			{"fail/filter syntax", r.ID, "*)(objectClass=*", store.ErrTokenMismatch},
			{"fail/unknown client", "nobody", r.RegistrationTokenHash, store.ErrNotFound},
			{"fail/invalid id", "a,cn=x", r.RegistrationTokenHash, store.ErrNotFound},
			{"ok/right token", r.ID, r.RegistrationTokenHash, nil},
			{"fail/already deleted", r.ID, r.RegistrationTokenHash, store.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.DeleteIfManageable(t.Context(), tt.id, tt.hash, time.Now())
				if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("controls=%v: err = %v, want %v", controls, err, tt.wantErr)
				}
				if tt.wantErr != nil && !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("a refused delete must look like an unknown client, got %v", err)
				}
			})
		}
	}
}

// TestDeleteSeesConcurrentRotation: the revision cond saw is asserted, so
// a rotation between the read and the Delete makes cond run again.
func TestDeleteSeesConcurrentRotation(t *testing.T) {
	s, _ := newStore(t)
	r := storetest.NewRecord("racer")
	if err := s.Create(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	calls := 0
	err := s.Delete(t.Context(), r.ID, func(cur client.Record) error {
		calls++
		if calls == 1 { // another writer rotates the token meanwhile
			if _, err := s.Update(t.Context(), r.ID, func(r client.Record) (client.Record, error) {
				r.RegistrationTokenHash = "0000000000000000000000000000000000000000000000000000000000000003"
				return r, nil
			}); err != nil {
				t.Fatal(err)
			}
			return nil
		}
		if cur.RegistrationTokenHash != r.RegistrationTokenHash {
			return errors.New("token rotated")
		}
		return nil
	})
	if err == nil || err.Error() != "token rotated" || calls != 2 {
		t.Fatalf("Delete = %v after %d checks; want the rotation seen on the second", err, calls)
	}
	if _, err := s.Get(t.Context(), r.ID); err != nil {
		t.Fatalf("client deleted despite the rotation: %v", err)
	}
}
