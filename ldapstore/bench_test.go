package ldapstore

import (
	"testing"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/store/storetest"
)

// BenchmarkStore measures the store calls of the management path against
// the shared slapd, one client per goroutine so updates never conflict:
//
//	go test ./ldapstore -run '^$' -bench Store -benchmem
func BenchmarkStore(b *testing.B) {
	srv := server(b)
	ou, err := srv.NewOU()
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(b.Context(), configFor(srv, ou), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	r := storetest.NewRecord("bench")
	if err := s.Create(b.Context(), r); err != nil {
		b.Fatal(err)
	}
	b.Run("get", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Get(b.Context(), r.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("update", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Update(b.Context(), r.ID, func(c client.Record) (client.Record, error) {
				c.Metadata.ClientName = map[bool]string{true: "A", false: "B"}[c.Metadata.ClientName != "A"]
				return c, nil
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEncode is the entry mapping of every write: a record to its
// attributes (canonical JSON, searchable copies, server-side state).
func BenchmarkEncode(b *testing.B) {
	r := storetest.NewRecord("bench")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encode(r); err != nil {
			b.Fatal(err)
		}
	}
}
