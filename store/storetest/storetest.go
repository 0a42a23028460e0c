// Package storetest is the conformance suite every store.Store backend must
// pass. Each behaviour is a named subtest on a fresh, empty store, and checks
// both sides (create twice, delete missing, a refused update leaves the
// record alone), so memstore and ldapstore cannot drift apart.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/store"
)

// Run runs the suite. newStore must return an empty store for each call.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"CreateGet", testCreateGet},
		{"CreateTwice", testCreateTwice},
		{"GetMissing", testGetMissing},
		{"GetInvalidID", testGetInvalidID},
		{"MetadataDocumentID", testMetadataDocumentID},
		{"Update", testUpdate},
		{"UpdateClearsFields", testUpdateClearsFields},
		{"UpdateMissing", testUpdateMissing},
		{"UpdateRefused", testUpdateRefused},
		{"Delete", testDelete},
		{"DeleteMissing", testDeleteMissing},
		{"DeleteRefused", testDeleteRefused},
		{"Count", testCount},
		{"Walk", testWalk},
		{"LifecycleQueries", testLifecycleQueries},
		{"DisabledKeepsSecrets", testDisabledKeepsSecrets},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"Ping", testPing},
		{"DeleteIfManageable", testDeleteIfManageable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newStore(t)) })
	}
}

// at returns a fixed instant at second precision: directories keep
// GeneralizedTime to the second, and every backend must round-trip it.
func at(offset time.Duration) time.Time {
	return time.Date(2026, 11, 26, 8, 30, 0, 0, time.UTC).Add(offset)
}

// NewRecord returns a fully populated record: every kind of field a backend
// must keep (lists, language tags, extensions, raw JWKS, several secrets).
func NewRecord(id string) client.Record {
	age := int64(3600)
	return client.Record{
		ID: id,
		Metadata: client.Metadata{
			RedirectURIs:            []string{"https://app.example.com/cb", "http://127.0.0.1/cb"},
			TokenEndpointAuthMethod: "client_secret_basic",
			GrantTypes:              []string{"authorization_code", "refresh_token"},
			ResponseTypes:           []string{"code"},
			ClientName:              "Example App",
			ClientURI:               "https://app.example.com",
			Scope:                   "openid profile",
			Contacts:                []string{"ops@example.com"},
			JWKS:                    json.RawMessage(`{"keys":[]}`),
			SoftwareID:              "4NRB1-0XZABZI9E6-5SM3R",
			SoftwareVersion:         "2.1",
			ApplicationType:         "web",
			DefaultMaxAge:           &age,
			Localized:               map[string]string{"client_name#fr": "Appli d'exemple", "client_name#ja-Jpan-JP": "アプリ"},
			Extensions:              map[string]json.RawMessage{"tenant": json.RawMessage(`"acme"`)},
		},
		Secrets: []client.SecretHash{
			{Hash: "{SSHA512}Y3VycmVudC1oYXNoLXZhbHVlLWZvci10ZXN0aW5nLW9ubHktMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5"},
			{Hash: "{SSHA512}cmV0YWluZWQtaGFzaC12YWx1ZS1mb3ItdGVzdGluZy1vbmx5LTAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4", ExpiresAt: at(24 * time.Hour)},
		},
		RegistrationTokenHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		PreviousToken:         client.PreviousToken{Hash: "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752", ExpiresAt: at(10 * time.Minute)},
		IssuedAt:              at(0),
		SecretExpiresAt:       at(90 * 24 * time.Hour),
		Owner: client.Owner{Issuer: "https://as.example.com", Subject: "developer-1", TokenID: "jti-1",
			ClientID: "cli", Scopes: []string{"dcr", "dcr:admin"}, Claims: json.RawMessage(`{"sub":"developer-1","groups":["a","b"],"email":"dev@example.com"}`)},
		Statement: &client.Statement{Issuer: "https://software.example.com", Claims: json.RawMessage(`{"software_id":"4NRB1-0XZABZI9E6-5SM3R","client_name":"Example App"}`),
			Scopes: []string{"openid", "profile"}, Defaults: json.RawMessage(`{"token_endpoint_auth_method":"client_secret_basic"}`)},
		Revision: 1,
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }

func mustCreate(t *testing.T, s store.Store, r client.Record) {
	t.Helper()
	if err := s.Create(ctx(t), r); err != nil {
		t.Fatalf("Create(%s): %v", r.ID, err)
	}
}

func mustGet(t *testing.T, s store.Store, id string) client.Record {
	t.Helper()
	r, err := s.Get(ctx(t), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return r
}

func wantEqual(t *testing.T, got, want client.Record) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("record differs\n got: %s\nwant: %s\n(metadata got %+v\n want %+v)", g, w, got.Metadata, want.Metadata)
	}
}

func wantErr(t *testing.T, op string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", op, err, want)
	}
}

func testCreateGet(t *testing.T, s store.Store) {
	r := NewRecord("createget")
	r.Revision = 7 // the store, not the caller, owns the revision
	mustCreate(t, s, r)
	r.Revision = 1
	wantEqual(t, mustGet(t, s, r.ID), r)

	public := client.Record{ID: "public", Metadata: client.Metadata{RedirectURIs: []string{"http://localhost/cb"},
		TokenEndpointAuthMethod: "none"}, IssuedAt: at(0), Revision: 1}
	mustCreate(t, s, public)
	wantEqual(t, mustGet(t, s, public.ID), public)
}

func testCreateTwice(t *testing.T, s store.Store) {
	r := NewRecord("twice")
	mustCreate(t, s, r)
	other := NewRecord("twice")
	other.Metadata.ClientName = "Impostor"
	wantErr(t, "second Create", s.Create(ctx(t), other), store.ErrAlreadyExists)
	if got := mustGet(t, s, r.ID); got.Metadata.ClientName != "Example App" {
		t.Fatalf("second Create overwrote the first: %q", got.Metadata.ClientName)
	}
}

func testGetMissing(t *testing.T, s store.Store) {
	_, err := s.Get(ctx(t), "missing")
	wantErr(t, "Get", err, store.ErrNotFound)
}

// testGetInvalidID feeds IDs that would be dangerous in a DN or filter; a
// backend must treat them as unknown, not as syntax.
func testGetInvalidID(t *testing.T, s store.Store) {
	mustCreate(t, s, NewRecord("victim"))
	for _, id := range []string{"", "*", "victim)(objectClass=*", "victim,ou=x", `a\2a`, "x\x00y"} {
		_, err := s.Get(ctx(t), id)
		wantErr(t, fmt.Sprintf("Get(%q)", id), err, store.ErrNotFound)
	}
}

// testMetadataDocumentID stores a client whose ID is its metadata
// document's URL, with characters that mean something in DNs and filters,
// and finds it only by that exact ID, never by a lookalike. A backend
// whose directory cannot name such an entry (AD's cn holds 64 characters)
// says so with AcceptsID and must refuse it whole.
func testMetadataDocumentID(t *testing.T, s store.Store) {
	id := "https://app.example.com/c;x=1,y=(2)+*?q=a&b"
	r := NewRecord(id)
	r.Secrets, r.RegistrationTokenHash, r.Metadata.TokenEndpointAuthMethod = nil, "", "none"
	if a, ok := s.(interface{ AcceptsID(string) bool }); ok && !a.AcceptsID(id) {
		if err := s.Create(ctx(t), r); err == nil {
			t.Fatal("Create of an ID the backend does not accept succeeded")
		}
		_, err := s.Get(ctx(t), id)
		wantErr(t, "Get", err, store.ErrNotFound)
		return
	}
	mustCreate(t, s, r)
	got, err := s.Get(ctx(t), id)
	if err != nil || got.ID != id {
		t.Fatalf("Get(%q) = %q, %v", id, got.ID, err)
	}
	for _, other := range []string{"https://app.example.com/c;x=1,y=(2)+*?q=a", "https://app.example.com/c*", "HTTPS://app.example.com/c;x=1,y=(2)+*?q=a&b"} {
		_, err := s.Get(ctx(t), other)
		wantErr(t, fmt.Sprintf("Get(%q)", other), err, store.ErrNotFound)
	}
	if _, err := s.Update(ctx(t), id, func(old client.Record) (client.Record, error) {
		old.Metadata.ClientName = "Refreshed"
		return old, nil
	}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := s.Delete(ctx(t), id, func(client.Record) error { return nil }); err != nil {
		t.Fatalf("Delete: %v", err)
	}
}

func testUpdate(t *testing.T, s store.Store) {
	r := NewRecord("update")
	mustCreate(t, s, r)
	got, err := s.Update(ctx(t), r.ID, func(old client.Record) (client.Record, error) {
		old.Metadata.ClientName = "Renamed"
		old.Metadata.RedirectURIs = append(old.Metadata.RedirectURIs, "https://app.example.com/cb2")
		old.Metadata.Localized["client_name#de"] = "Umbenannt"
		old.Secrets = old.Secrets[:1]
		old.RegistrationTokenHash = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
		return old, nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	want := NewRecord("update")
	want.Metadata.ClientName = "Renamed"
	want.Metadata.RedirectURIs = append(want.Metadata.RedirectURIs, "https://app.example.com/cb2")
	want.Metadata.Localized["client_name#de"] = "Umbenannt"
	want.Secrets = want.Secrets[:1]
	want.RegistrationTokenHash = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
	want.Revision = 2
	wantEqual(t, got, want)
	wantEqual(t, mustGet(t, s, r.ID), want)
}

// testUpdateClearsFields checks that values removed by an update are gone,
// not left behind as stale searchable attributes or secrets.
func testUpdateClearsFields(t *testing.T, s store.Store) {
	r := NewRecord("clears")
	mustCreate(t, s, r)
	_, err := s.Update(ctx(t), r.ID, func(old client.Record) (client.Record, error) {
		old.Metadata = client.Metadata{RedirectURIs: []string{"https://only.example.com/cb"}}
		old.Secrets = nil
		old.SecretExpiresAt = time.Time{}
		old.RegistrationTokenHash = ""
		return old, nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	want := r
	want.Metadata = client.Metadata{RedirectURIs: []string{"https://only.example.com/cb"}}
	want.Secrets = nil
	want.SecretExpiresAt = time.Time{}
	want.RegistrationTokenHash = ""
	want.Revision = 2
	wantEqual(t, mustGet(t, s, r.ID), want)
}

func testUpdateMissing(t *testing.T, s store.Store) {
	_, err := s.Update(ctx(t), "missing", func(r client.Record) (client.Record, error) { return r, nil })
	wantErr(t, "Update", err, store.ErrNotFound)
}

func testUpdateRefused(t *testing.T, s store.Store) {
	r := NewRecord("refused")
	mustCreate(t, s, r)
	refusal := errors.New("not yours")
	_, err := s.Update(ctx(t), r.ID, func(old client.Record) (client.Record, error) {
		old.Metadata.ClientName = "half-written"
		return old, refusal
	})
	wantErr(t, "Update", err, refusal)
	wantEqual(t, mustGet(t, s, r.ID), r)
}

func testDelete(t *testing.T, s store.Store) {
	r := NewRecord("delete")
	mustCreate(t, s, r)
	var seen client.Record
	if err := s.Delete(ctx(t), r.ID, func(cur client.Record) error { seen = cur; return nil }); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantEqual(t, seen, r)
	_, err := s.Get(ctx(t), r.ID)
	wantErr(t, "Get after Delete", err, store.ErrNotFound)
	mustCreate(t, s, r) // the ID is free again
}

func testDeleteMissing(t *testing.T, s store.Store) {
	wantErr(t, "Delete", s.Delete(ctx(t), "missing", nil), store.ErrNotFound)
}

func testDeleteRefused(t *testing.T, s store.Store) {
	r := NewRecord("keep")
	mustCreate(t, s, r)
	refusal := errors.New("wrong token")
	wantErr(t, "Delete", s.Delete(ctx(t), r.ID, func(client.Record) error { return refusal }), refusal)
	wantEqual(t, mustGet(t, s, r.ID), r)
}

// listed makes four records, created out of order, with two owners and
// two initial access tokens.
func listed(t *testing.T, s store.Store) {
	for i, owner := range []string{"alice", "bob", "alice", "alice"} {
		r := NewRecord(fmt.Sprintf("list%d", 3-i))
		r.Owner.Subject = owner
		r.Owner.TokenID = fmt.Sprintf("token-%d", i%2)
		if i == 3 {
			r.Owner.Issuer = "https://other.example.com"
		}
		mustCreate(t, s, r)
	}
}

// queries are the filters Count and Walk share, with the IDs each selects.
var queries = []struct {
	name string
	q    store.Query
	want []string
}{
	{"ok/all", store.Query{}, []string{"list0", "list1", "list2", "list3"}},
	{"ok/by subject", store.Query{OwnerSubject: "alice"}, []string{"list0", "list1", "list3"}},
	{"ok/by issuer and subject", store.Query{OwnerIssuer: "https://as.example.com", OwnerSubject: "alice"}, []string{"list1", "list3"}},
	{"ok/nobody", store.Query{OwnerSubject: "carol"}, nil},
	{"ok/by token", store.Query{OwnerTokenID: "token-1"}, []string{"list0", "list2"}},
	{"ok/by owner and token", store.Query{OwnerSubject: "alice", OwnerTokenID: "token-1"}, []string{"list0"}},
	{"ok/filter syntax is data", store.Query{OwnerSubject: "*"}, nil},
	{"ok/escaped filter", store.Query{OwnerSubject: "alice)(dcrOwnerSubject=*"}, nil},
}

func testCount(t *testing.T, s store.Store) {
	listed(t, s)
	for _, tt := range queries {
		t.Run(tt.name, func(t *testing.T) {
			for _, limit := range []int{1, len(tt.want), len(tt.want) + 1, 1000} {
				n, err := s.Count(ctx(t), tt.q, limit)
				if err != nil {
					t.Fatalf("Count(%+v, %d): %v", tt.q, limit, err)
				}
				if want := min(limit, len(tt.want)); n != want {
					t.Fatalf("Count(%+v, %d) = %d, want %d", tt.q, limit, n, want)
				}
			}
		})
	}
}

func testWalk(t *testing.T, s store.Store) {
	listed(t, s)
	for _, tt := range queries {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			err := s.Walk(ctx(t), tt.q, func(r client.Record) error {
				if want := NewRecord(r.ID); !reflect.DeepEqual(r.Metadata, want.Metadata) {
					t.Errorf("walked record %s lost its metadata", r.ID)
				}
				got = append(got, r.ID)
				return nil
			})
			if err != nil {
				t.Fatalf("Walk(%+v): %v", tt.q, err)
			}
			slices.Sort(got)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Walk(%+v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
	t.Run("ok/stop early", func(t *testing.T) {
		n := 0
		err := s.Walk(ctx(t), store.Query{}, func(client.Record) error { n++; return store.ErrStopWalk })
		if err != nil || n != 1 {
			t.Fatalf("Walk stopped after %d records with %v, want 1 and nil", n, err)
		}
	})
	t.Run("fail/callback error", func(t *testing.T) {
		refusal := errors.New("stop here")
		err := s.Walk(ctx(t), store.Query{}, func(client.Record) error { return refusal })
		wantErr(t, "Walk", err, refusal)
	})
	t.Run("ok/callback uses the store", func(t *testing.T) {
		err := s.Walk(ctx(t), store.Query{OwnerSubject: "bob"}, func(r client.Record) error {
			return s.Delete(ctx(t), r.ID, nil)
		})
		if err != nil {
			t.Fatalf("Walk deleting: %v", err)
		}
		if n, _ := s.Count(ctx(t), store.Query{OwnerSubject: "bob"}, 10); n != 0 {
			t.Fatalf("%d of bob's clients left after deleting them while walking", n)
		}
	})
}

// testConcurrentUpdates races writers on one record. Each successful Update
// must survive: a lost update is the bug CAS exists to prevent. Updates may
// fail with ErrConflict under contention, but then must change nothing.
func testConcurrentUpdates(t *testing.T, s store.Store) {
	r := NewRecord("race")
	r.Metadata.Contacts = nil
	mustCreate(t, s, r)
	succeeded := RaceContacts(t, r.ID, 8, 5, s)
	WantContacts(t, s, r.ID, succeeded)
	if got := mustGet(t, s, r.ID); got.Revision != uint64(1+len(succeeded)) {
		t.Fatalf("revision %d after %d updates", got.Revision, len(succeeded))
	}
}

// RaceContacts has writers goroutines on each of stores (one store, or
// several gateways over one directory) add each contacts apiece to the
// record id by compare-and-swap, and returns the contacts whose Update
// succeeded. A conflict is a lost race; any other error, or no success at
// all, fails t.
func RaceContacts(t *testing.T, id string, writers, each int, stores ...store.Store) []string {
	t.Helper()
	var (
		mu        sync.Mutex
		succeeded []string
		wg        sync.WaitGroup
	)
	for g, s := range stores {
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					contact := fmt.Sprintf("s%d-w%d-%d@example.com", g, w, i)
					_, err := s.Update(ctx(t), id, func(old client.Record) (client.Record, error) {
						old.Metadata.Contacts = append(old.Metadata.Contacts, contact)
						return old, nil
					})
					switch {
					case err == nil:
						mu.Lock()
						succeeded = append(succeeded, contact)
						mu.Unlock()
					case !errors.Is(err, store.ErrConflict):
						t.Errorf("Update: %v", err)
					}
				}
			})
		}
	}
	wg.Wait()
	if len(succeeded) == 0 {
		t.Fatal("no update succeeded")
	}
	return succeeded
}

// WantContacts fails unless the record id on s holds exactly contacts: no
// acknowledged update lost, none invented.
func WantContacts(t *testing.T, s store.Store, id string, contacts []string) {
	t.Helper()
	got := mustGet(t, s, id)
	if len(got.Metadata.Contacts) != len(contacts) {
		t.Fatalf("%d updates succeeded but the record holds %d contacts", len(contacts), len(got.Metadata.Contacts))
	}
	for _, c := range contacts {
		if !slices.Contains(got.Metadata.Contacts, c) {
			t.Fatalf("update %s was lost", c)
		}
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(ctx(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// lifecycle makes one record per state the admin tools and the reaper
// select on, as at(0) sees them.
func lifecycle(t *testing.T, s store.Store) {
	t.Helper()
	for _, edit := range []func(*client.Record){
		func(r *client.Record) { r.ID, r.Metadata.ClientName = "fresh", "Fresh App" },
		func(r *client.Record) {
			r.ID, r.Metadata.ClientName, r.IssuedAt = "oldpublic", "Old Public CLI", at(-48*time.Hour)
			r.Metadata.TokenEndpointAuthMethod, r.Secrets, r.SecretExpiresAt = "none", nil, time.Time{}
		},
		func(r *client.Record) {
			r.ID, r.Metadata.ClientName = "oldused", "Old but used"
			r.IssuedAt, r.LastUsedAt = at(-48*time.Hour), at(-time.Hour)
		},
		func(r *client.Record) { r.ID, r.ExpiresAt = "expired", at(-time.Hour) },
		func(r *client.Record) {
			r.ID, r.ExpiresAt, r.SecretExpiresAt = "later", at(time.Hour), at(-time.Minute)
			r.Metadata.TokenEndpointAuthMethod, r.Metadata.JWKSURI = "private_key_jwt", "https://app.example.com/jwks"
			r.Metadata.JWKS = nil
		},
		func(r *client.Record) {
			r.ID, r.Disabled, r.DisabledReason = "disabled", true, "awaiting approval (policy review)"
		},
		func(r *client.Record) {
			r.ID = "lingering"
			r.Secrets = NewRecord("").Secrets
			r.PreviousToken = NewRecord("").PreviousToken
		},
	} {
		r := NewRecord("")
		r.Secrets, r.PreviousToken = r.Secrets[:1], client.PreviousToken{}
		edit(&r)
		mustCreate(t, s, r)
	}
}

func testLifecycleQueries(t *testing.T, s store.Store) {
	lifecycle(t, s)
	all := []string{"disabled", "expired", "fresh", "later", "lingering", "oldpublic", "oldused"}
	for _, tt := range []struct {
		name string
		q    store.Query
		want []string
	}{
		{"ok/name contains, any case", store.Query{NameContains: "old"}, []string{"oldpublic", "oldused"}},
		{"ok/name is data", store.Query{NameContains: "*"}, nil},
		{"ok/created before", store.Query{CreatedBefore: at(-time.Hour)}, []string{"oldpublic", "oldused"}},
		{"ok/created at or after", store.Query{CreatedAfter: at(0)}, []string{"disabled", "expired", "fresh", "later", "lingering"}},
		{"ok/expired", store.Query{ExpiredAt: at(0)}, []string{"expired"}},
		{"ok/expired later", store.Query{ExpiredAt: at(2 * time.Hour)}, []string{"expired", "later"}},
		{"ok/disabled", store.Query{Disabled: true}, []string{"disabled"}},
		{"ok/public", store.Query{Kind: store.Public}, []string{"oldpublic"}},
		{"ok/with a secret", store.Query{Kind: store.SecretBased}, []string{"disabled", "expired", "fresh", "lingering", "oldused"}},
		{"ok/secret expired", store.Query{SecretExpiredAt: at(0)}, []string{"later"}},
		{"ok/unused", store.Query{UnusedSince: at(-2 * time.Hour)}, []string{"oldpublic"}},
		{"ok/unused public", store.Query{UnusedSince: at(-2 * time.Hour), Kind: store.Public}, []string{"oldpublic"}},
		{"ok/never bound", store.Query{Bound: true}, nil},
		{"ok/lingering", store.Query{Lingering: true}, []string{"lingering"}},
		{"ok/everything", store.Query{}, all},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			if err := s.Walk(ctx(t), tt.q, func(r client.Record) error { got = append(got, r.ID); return nil }); err != nil {
				t.Fatalf("Walk: %v", err)
			}
			slices.Sort(got)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Walk(%+v) = %v, want %v", tt.q, got, tt.want)
			}
			if n, err := s.Count(ctx(t), tt.q, 100); err != nil || n != len(tt.want) {
				t.Fatalf("Count(%+v) = %d, %v; want %d", tt.q, n, err, len(tt.want))
			}
		})
	}
}

// testDisabledKeepsSecrets: a disabled client keeps its secrets (to be
// restored when it is enabled) and every other member through a write.
func testDisabledKeepsSecrets(t *testing.T, s store.Store) {
	r := NewRecord("suspended")
	r.Disabled, r.DisabledReason = true, "awaiting approval (policy review)"
	r.LastUsedAt, r.Defaulted = at(time.Hour), []string{"grant_types", "scope"}
	mustCreate(t, s, r)
	wantEqual(t, mustGet(t, s, r.ID), r)
	got, err := s.Update(ctx(t), r.ID, func(cur client.Record) (client.Record, error) {
		cur.Disabled, cur.DisabledReason = false, ""
		return cur, nil
	})
	if err != nil {
		t.Fatalf("enable: %v", err)
	}
	want := r
	want.Disabled, want.DisabledReason, want.Revision = false, "", 2
	wantEqual(t, got, want)
	wantEqual(t, mustGet(t, s, r.ID), want)
}

// testDeleteIfManageable covers store.TokenDeleter, for the stores that
// offer it: the current token, or the previous one within its grace
// period, deletes an active client; anything else deletes nothing and
// looks like an unknown client.
func testDeleteIfManageable(t *testing.T, s store.Store) {
	td, ok := s.(store.TokenDeleter)
	if !ok {
		t.Skip("store does not implement store.TokenDeleter")
	}
	base := NewRecord("guarded")
	inGrace, pastGrace := base.PreviousToken.ExpiresAt.Add(-time.Second), base.PreviousToken.ExpiresAt.Add(time.Second)
	tests := []struct {
		name, id, token string
		now             time.Time
		edit            func(*client.Record)
		wantErr         error
	}{
		{"fail/other token", base.ID, "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", inGrace, nil, store.ErrNotFound},
		{"fail/empty token", base.ID, "", inGrace, nil, store.ErrNotFound},
		{"fail/filter syntax as token", base.ID, "*", inGrace, nil, store.ErrNotFound},
		{"fail/unknown client", "missing", base.RegistrationTokenHash, inGrace, nil, store.ErrNotFound},
		{"fail/malformed id", "a,ou=x", base.RegistrationTokenHash, inGrace, nil, store.ErrNotFound},
		{"fail/previous token past its grace", base.ID, base.PreviousToken.Hash, pastGrace, nil, store.ErrNotFound},
		{"fail/disabled", base.ID, base.RegistrationTokenHash, inGrace, func(r *client.Record) { r.Disabled = true }, store.ErrNotFound},
		{"fail/expired", base.ID, base.RegistrationTokenHash, inGrace, func(r *client.Record) { r.ExpiresAt = at(time.Minute) }, store.ErrNotFound},
		{"ok/current token", base.ID, base.RegistrationTokenHash, pastGrace, nil, nil},
		{"ok/previous token in grace", base.ID, base.PreviousToken.Hash, inGrace, nil, nil},
		{"ok/not yet expired", base.ID, base.RegistrationTokenHash, inGrace, func(r *client.Record) { r.ExpiresAt = at(time.Hour) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base.Clone()
			if tt.edit != nil {
				tt.edit(&r)
			}
			mustCreate(t, s, r)
			t.Cleanup(func() { _ = s.Delete(context.Background(), r.ID, nil) })
			_, err := td.DeleteIfManageable(ctx(t), tt.id, tt.token, tt.now)
			if tt.wantErr != nil {
				wantErr(t, "DeleteIfManageable", err, tt.wantErr)
				wantEqual(t, mustGet(t, s, r.ID), r)
				return
			}
			if err != nil {
				t.Fatalf("DeleteIfManageable: %v", err)
			}
			_, err = s.Get(ctx(t), r.ID)
			wantErr(t, "Get after delete", err, store.ErrNotFound)
		})
	}
}
