package ldapstore

import (
	"errors"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/store"
	"github.com/dcrgate/dcrgate/store/storetest"
)

// createdByA returns two stores over one base DN, a and b, and a client a
// created, so a remembers it.
func createdByA(t *testing.T, name string) (a, b *Store, r client.Record) {
	t.Helper()
	a, _ = newStore(t)
	b = twin(t, a)
	r = storetest.NewRecord(name)
	if err := a.Create(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	return a, b, r
}

// twin is a second store (a second dcrgate) over s's base DN.
func twin(t *testing.T, s *Store) *Store {
	t.Helper()
	cfg := s.cfg
	other, err := New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	return other
}

// adminConn is a connection of its own, bound as the store's account: an
// administrator's ldapmodify, or a look at the entry past the store.
func adminConn(t *testing.T, s *Store) *ldap.Conn {
	t.Helper()
	conn, err := ldap.DialURL(s.cfg.URLs[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if err := conn.Bind(s.cfg.BindDN, s.cfg.BindPassword); err != nil {
		t.Fatal(err)
	}
	return conn
}

// adminModify changes the entry directly, as an administrator with
// ldapmodify would, without touching dcrRevision unless told to.
func adminModify(t *testing.T, s *Store, id string, edit func(*ldap.ModifyRequest)) {
	t.Helper()
	conn := adminConn(t, s)
	req := ldap.NewModifyRequest(s.dn(id), nil)
	edit(req)
	if err := conn.Modify(req); err != nil {
		t.Fatal(err)
	}
}

// entryAs reads every managed attribute of id as the directory holds it,
// searchable copies included.
func entryAs(t *testing.T, s *Store, id string) attrs {
	t.Helper()
	res, err := adminConn(t, s).Search(ldap.NewSearchRequest(s.dn(id), ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 0, false, "(objectClass=*)", []string{"*"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("read %s: %v", id, err)
	}
	return s.layout.entryAttrs(res.Entries[0])
}

// wantStored checks that the entry is exactly want's encoding, so a
// minimal Modify left no stale searchable copy behind.
func wantStored(t *testing.T, s *Store, want client.Record) {
	t.Helper()
	a, err := encode(want)
	if err != nil {
		t.Fatal(err)
	}
	if got := entryAs(t, s, want.ID); !reflect.DeepEqual(got, a) {
		t.Fatalf("entry holds\n%v\nwant\n%v", got, a)
	}
	if got, err := s.Get(t.Context(), want.ID); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Get = %+v, %v\nwant %+v", got, err, want)
	}
}

const (
	tokenA = "1111111111111111111111111111111111111111111111111111111111111111"
	tokenB = "2222222222222222222222222222222222222222222222222222222222222222"
)

// replacement is an update as a PUT makes it: it checks the token hash
// as the service does, then changes the name and the redirect URIs, whose
// searchable copies are indexed, rotates the secret and, unless next is
// "", the token.
func replacement(tokenHash, name, uri, next string) func(client.Record) (client.Record, error) {
	return func(r client.Record) (client.Record, error) {
		if r.MatchToken(tokenHash, time.Now()) == client.NoTokenMatch {
			return r, errMismatch
		}
		r.Metadata.ClientName, r.Metadata.RedirectURIs = name, []string{uri}
		r.Secrets = []client.SecretHash{{Hash: "{SSHA512}" + name}}
		if next != "" {
			r.RegistrationTokenHash = next
		}
		return r, nil
	}
}

// TestUpdateKnownWritesOnlyChanges: an update of an entry this process
// wrote is one Modify that leaves the entry exactly as the ordinary path
// would, copies included, for both the Assertion guard and the revision
// swap.
func TestUpdateKnownWritesOnlyChanges(t *testing.T) {
	for _, controls := range []bool{true, false} {
		s, counter := countingStore(t, controls)
		r := storetest.NewRecord("known")
		if err := s.Create(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		want := asWritten(r)
		token := r.RegistrationTokenHash
		for i, uri := range []string{"https://a.example.com/cb", "https://b.example.com/cb"} {
			before := counter.counts()
			next := [...]string{tokenA, tokenB}[i]
			rep := replacement(token, "Name "+uri, uri, next)
			got, err := s.Update(t.Context(), r.ID, rep)
			if err != nil {
				t.Fatalf("controls=%v: %v", controls, err)
			}
			if n := counter.counts()[opModify] - before[opModify]; n != 1 || counter.counts()[opSearch] != before[opSearch] {
				t.Fatalf("controls=%v: %d modifies and %d searches, want one Modify", controls, n, counter.counts()[opSearch]-before[opSearch])
			}
			want, _ = rep(want)
			want.Revision++
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("controls=%v: returned %+v\nwant %+v", controls, got, want)
			}
			wantStored(t, s, want)
			token = next
		}
	}
}

// TestUpdateKnownSeesOtherWriters: what a process remembers is never
// trusted over the directory. Another dcrgate's write, with or without a
// new token, or its delete, makes the remembered state useless, and the
// update is decided as if nothing were remembered.
func TestUpdateKnownSeesOtherWriters(t *testing.T) {
	t.Run("token rotated elsewhere", func(t *testing.T) {
		a, b, r := createdByA(t, "rotated")
		written, err := b.Update(t.Context(), r.ID, replacement(r.RegistrationTokenHash, "B", "https://b.example.com/cb", tokenB))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Update(t.Context(), r.ID, replacement(r.RegistrationTokenHash, "A", "https://a.example.com/cb", tokenA)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the token b rotated away still works through a: %v", err)
		}
		wantStored(t, a, written)
		got, err := a.Update(t.Context(), r.ID, replacement(tokenB, "A", "https://a.example.com/cb", tokenA))
		if err != nil {
			t.Fatalf("b's new token refused by a: %v", err)
		}
		wantStored(t, a, got)
	})
	t.Run("same token, metadata changed elsewhere", func(t *testing.T) {
		a, b, r := createdByA(t, "changed")
		if _, err := b.Update(t.Context(), r.ID, replacement(r.RegistrationTokenHash, "B", "https://b.example.com/cb", "")); err != nil {
			t.Fatal(err)
		}
		// a remembers the original copies; had it trusted them, it would
		// not replace the redirect URI copy b changed back.
		got, err := a.Update(t.Context(), r.ID, func(cur client.Record) (client.Record, error) {
			cur.Metadata, cur.Secrets = r.Metadata, []client.SecretHash{{Hash: "{SSHA512}x"}}
			return cur, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.Revision != 3 || !reflect.DeepEqual(got.Metadata, r.Metadata) {
			t.Fatalf("returned %+v", got)
		}
		wantStored(t, a, got)
	})
	t.Run("deleted elsewhere", func(t *testing.T) {
		a, b, r := createdByA(t, "deleted")
		if _, err := b.DeleteIfManageable(t.Context(), r.ID, r.RegistrationTokenHash, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Update(t.Context(), r.ID, replacement(r.RegistrationTokenHash, "A", "https://a.example.com/cb", "")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("update of a client deleted elsewhere: %v, want ErrNotFound", err)
		}
	})
}

// TestUpdateKnownSeesAdministrators: changes made by hand, which need not
// move dcrRevision, still void what a process remembers.
func TestUpdateKnownSeesAdministrators(t *testing.T) {
	for _, controls := range []bool{true, false} {
		t.Run(map[bool]string{true: "controls", false: "no controls"}[controls], func(t *testing.T) {
			a, _ := newStore(t)
			if !controls {
				withoutControls(a)
			}
			r := storetest.NewRecord("revoked")
			if err := a.Create(t.Context(), r); err != nil {
				t.Fatal(err)
			}
			// A leaked token revoked by hand: revision unchanged.
			adminModify(t, a, r.ID, func(req *ldap.ModifyRequest) {
				req.Replace("dcrRegistrationTokenHash", []string{tokenB})
			})
			if _, err := a.Update(t.Context(), r.ID, replacement(r.RegistrationTokenHash, "A", "https://a.example.com/cb", tokenA)); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("a revoked token still updates the client: %v", err)
			}
			// A stray searchable copy and a revision bump by hand, then an
			// Update that reads the entry: the next PUT must still leave
			// exactly the copies of the metadata.
			adminModify(t, a, r.ID, func(req *ldap.ModifyRequest) {
				req.Add("dcrRedirectURI", []string{"https://stray.example.com/cb"})
				req.Replace("dcrRevision", []string{"40"})
			})
			if _, err := a.Update(t.Context(), r.ID, func(cur client.Record) (client.Record, error) { return cur, nil }); err != nil {
				t.Fatal(err)
			}
			got, err := a.Update(t.Context(), r.ID, replacement(tokenB, "A", "https://a.example.com/cb", tokenA))
			if err != nil {
				t.Fatal(err)
			}
			wantStored(t, a, got)
		})
	}
}

// TestUpdateKnownSeesRecreatedEntry: an entry deleted and created again
// under the same ID by another process is a different client; the first
// process's memory of the old one must not let the old token in.
func TestUpdateKnownSeesRecreatedEntry(t *testing.T) {
	a, b, r := createdByA(t, "recreated")
	if _, err := b.DeleteIfManageable(t.Context(), r.ID, r.RegistrationTokenHash, time.Now()); err != nil {
		t.Fatal(err)
	}
	again := storetest.NewRecord("recreated")
	again.RegistrationTokenHash = tokenB
	if err := b.Create(t.Context(), again); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Update(t.Context(), r.ID, replacement(r.RegistrationTokenHash, "A", "https://a.example.com/cb", tokenA)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the deleted client's token updates the new one: %v", err)
	}
	got, err := a.Update(t.Context(), r.ID, replacement(tokenB, "A", "https://a.example.com/cb", tokenA))
	if err != nil {
		t.Fatal(err)
	}
	wantStored(t, a, got)
}

// TestKnownWritesKeepNewest: two writes of one client finishing out of
// order leave the newer revision remembered, and the cache stays bounded.
func TestKnownWritesKeepNewest(t *testing.T) {
	k := newKnownWrites()
	r := storetest.NewRecord("order")
	r.Revision = 5
	a, err := encode(r)
	if err != nil {
		t.Fatal(err)
	}
	k.remember(r, a)
	older := r
	older.Revision = 4
	k.remember(older, a)
	if got, ok := k.get(r.ID); !ok || got.record.Revision != 5 {
		t.Fatalf("remembered %+v, %v; want revision 5", got.record, ok)
	}
	created := r
	created.Revision = 1
	k.created(created, a)
	if got, _ := k.get(r.ID); got.record.Revision != 1 {
		t.Fatalf("an Add did not replace the memory of a deleted entry: revision %d", got.record.Revision)
	}
	for i := range 2 * knownEntries {
		r.ID = "c" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
		k.remember(r, a)
	}
	if n := k.entries.Len(); n != knownEntries {
		t.Fatalf("%d entries remembered, want the bound %d", n, knownEntries)
	}
	var none *knownWrites
	none.remember(r, a)
	none.forget(r.ID)
	if _, ok := none.get(r.ID); ok {
		t.Fatal("a nil knownWrites remembered something")
	}
}

// TestOrdinaryUpdateIsRemembered: an update of an entry another process
// wrote reads the whole entry, searchable copies included, so it replaces
// whatever differs (a stray copy added by hand included) and knows the
// entry afterwards: the next update is one Modify from memory.
func TestOrdinaryUpdateIsRemembered(t *testing.T) {
	for _, controls := range []bool{true, false} {
		s, counter := countingStore(t, controls)
		r := storetest.NewRecord("elsewhere")
		if err := s.Create(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		s.known.forget(r.ID)
		adminModify(t, s, r.ID, func(req *ldap.ModifyRequest) {
			req.Add("dcrRedirectURI", []string{"https://stray.example.com/cb"})
		})
		token := r.RegistrationTokenHash
		for i, want := range []map[string]int{{opSearch: 1, opModify: 1}, {opModify: 1}} {
			before := counter.counts()
			next := [...]string{tokenA, tokenB}[i]
			got, err := s.Update(t.Context(), r.ID, replacement(token, "N", "https://n.example.com/cb", next))
			if err != nil {
				t.Fatalf("controls=%v, update %d: %v", controls, i+1, err)
			}
			done := map[string]int{}
			for op, n := range counter.counts() {
				if d := n - before[op]; d > 0 {
					done[op] = d
				}
			}
			if !reflect.DeepEqual(done, want) {
				t.Fatalf("controls=%v, update %d: LDAP requests %v, want %v", controls, i+1, done, want)
			}
			wantStored(t, s, got)
			token = next
		}
	}
}
