package ldapstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/store"
	"github.com/dcrgate/dcrgate/store/storetest"
)

// One slapd serves the whole test binary; each test gets its own OU.
var shared struct {
	once sync.Once
	srv  *slapdtest.Server
	dir  string
	err  error
}

// cleanups run after all tests, for servers shared between tests.
var cleanups []func()

func TestMain(m *testing.M) {
	code := m.Run()
	for _, c := range cleanups {
		c()
	}
	if shared.srv != nil {
		shared.srv.Stop()
	}
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

func server(t testing.TB) *slapdtest.Server {
	t.Helper()
	slapdtest.Require(t)
	shared.once.Do(func() {
		if shared.dir, shared.err = os.MkdirTemp("", "ldapstore-test-"); shared.err == nil {
			shared.srv, shared.err = slapdtest.Launch(context.Background(), shared.dir)
		}
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.srv
}

// newStore returns a store over a fresh, empty OU of the shared server.
func newStore(t *testing.T) (*Store, *slapdtest.Server) {
	t.Helper()
	srv := server(t)
	return storeAt(t, srv, nil), srv
}

// storeAt returns a store over a fresh, empty OU of srv, its config
// changed by edit when set.
func storeAt(t *testing.T, srv *slapdtest.Server, edit func(*Config)) *Store {
	t.Helper()
	ou, err := srv.NewOU()
	if err != nil {
		t.Fatal(err)
	}
	cfg := configFor(srv, ou)
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func configFor(srv *slapdtest.Server, baseDN string) Config {
	return Config{URLs: []string{srv.URL}, BindDN: srv.BindDN, BindPassword: srv.BindPassword,
		BaseDN: baseDN, Timeout: 3 * time.Second}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := newStore(t)
		return s
	})
}

// TestRoundTripState covers the server-side state the conformance record
// leaves at its zero value.
func TestRoundTripState(t *testing.T) {
	s, _ := newStore(t)
	r := storetest.NewRecord("state")
	r.Disabled = true
	r.ExpiresAt = time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	r.Secrets = append(r.Secrets, client.SecretHash{Hash: "{SSHA512}b2xkZXN0", ExpiresAt: r.ExpiresAt})
	r.Metadata.Scope = "openid  openid profile" // repeated tokens: the JSON keeps them, the copy does not
	if err := s.Create(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(t.Context(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("got %+v\nwant %+v", got, r)
	}
}

// TestSearchableCopies checks what an administrator or the AS sees with
// plain LDAP filters, before and after an update.
func TestSearchableCopies(t *testing.T) {
	s, srv := newStore(t)
	r := storetest.NewRecord("copies")
	if err := s.Create(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	count := func(filter string) int {
		t.Helper()
		res, err := rawConn(t, srv).Search(ldap.NewSearchRequest(s.cfg.BaseDN, ldap.ScopeSingleLevel,
			ldap.NeverDerefAliases, 0, 0, false, filter, []string{"1.1"}, nil))
		if err != nil {
			t.Fatalf("%s: %v", filter, err)
		}
		return len(res.Entries)
	}
	for filter, want := range map[string]int{
		"(dcrRedirectURI=http://127.0.0.1/cb)":                       1,
		"(&(dcrScope=openid)(dcrScope=profile))":                     1,
		"(dcrGrantType=refresh_token)":                               1,
		"(dcrClientName=example*)":                                   1,
		"(&(dcrIssuedAt>=20260101000000Z)(dcrRevision=1))":           1,
		"(&(dcrOwnerSubject=developer-1)(dcrDisabled=FALSE))":        1,
		"(dcrRegistrationTokenHash=" + r.RegistrationTokenHash + ")": 1,
	} {
		if got := count(filter); got != want {
			t.Errorf("%s matched %d entries, want %d", filter, got, want)
		}
	}
	_, err := s.Update(t.Context(), r.ID, func(old client.Record) (client.Record, error) {
		old.Metadata.ClientName = ""
		old.Metadata.Scope = "email"
		return old, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if count("(dcrClientName=*)") != 0 || count("(dcrScope=openid)") != 0 || count("(&(dcrScope=email)(dcrRevision=2))") != 1 {
		t.Fatal("update left stale searchable copies")
	}
}

func rawConn(t *testing.T, srv *slapdtest.Server) *ldap.Conn {
	t.Helper()
	conn, err := ldap.DialURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if err := conn.Bind(srv.BindDN, srv.BindPassword); err != nil {
		t.Fatal(err)
	}
	return conn
}

// TestBindAsClient proves schema, pw-sha2 and the stored hashes work
// together: the AS can check a secret with a bind as the client's DN, and a
// retained secret keeps working during its grace period.
func TestBindAsClient(t *testing.T) {
	s, srv := newStore(t)
	r := storetest.NewRecord("binder")
	r.Secrets = []client.SecretHash{
		{Hash: slapdtest.SSHA512("current-secret")},
		{Hash: slapdtest.SSHA512("retained-secret"), ExpiresAt: time.Now().Add(time.Hour).Truncate(time.Second).UTC()},
	}
	if err := s.Create(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	for password, ok := range map[string]bool{"current-secret": true, "retained-secret": true, "wrong": false, "Current-secret": false} {
		conn, err := ldap.DialURL(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		err = conn.Bind(dn(r.ID, s.cfg.BaseDN), password)
		_ = conn.Close()
		switch {
		case ok && err != nil:
			t.Errorf("bind with %q: %v", password, err)
		case !ok && !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials):
			t.Errorf("bind with %q: err = %v, want invalidCredentials", password, err)
		}
	}
}

// TestBadInput checks that a record the directory cannot hold is refused
// with a clear error and leaves nothing behind.
func TestBadInput(t *testing.T) {
	s, _ := newStore(t)
	tests := []struct {
		name string
		edit func(*client.Record)
		want error
	}{
		{"fail/id with DN syntax", func(r *client.Record) { r.ID = "a,ou=x" }, ErrInvalidID},
		{"fail/empty id", func(r *client.Record) { r.ID = "" }, ErrInvalidID},
		{"fail/clear-text secret", func(r *client.Record) { r.Secrets[0].Hash = "hunter2" }, ErrInvalidRecord},
		{"fail/empty secret", func(r *client.Record) { r.Secrets[0].Hash = "" }, ErrInvalidRecord},
		{"fail/duplicate secret", func(r *client.Record) { r.Secrets[1].Hash = r.Secrets[0].Hash }, ErrInvalidRecord},
		{"fail/non-ASCII grant type", func(r *client.Record) { r.Metadata.GrantTypes = []string{"authorizatión_code"} }, ErrInvalidRecord},
		{"fail/invalid UTF-8 owner", func(r *client.Record) { r.Owner.Subject = "\xff" }, ErrInvalidRecord},
		{"fail/year 10000", func(r *client.Record) { r.ExpiresAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, ErrInvalidRecord},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := storetest.NewRecord(fmt.Sprintf("bad%d", i))
			tt.edit(&r)
			if err := s.Create(t.Context(), r); !errors.Is(err, tt.want) {
				t.Fatalf("Create: err = %v, want %v", err, tt.want)
			}
			if _, err := s.Get(t.Context(), r.ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("Get after refused Create: %v", err)
			}
		})
	}
	t.Run("fail/update to a bad record keeps the old one", func(t *testing.T) {
		r := storetest.NewRecord("kept")
		if err := s.Create(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		_, err := s.Update(t.Context(), r.ID, func(old client.Record) (client.Record, error) {
			old.Metadata.ClientName = "changed"
			old.Secrets[0].Hash = "clear text"
			return old, nil
		})
		if !errors.Is(err, ErrInvalidRecord) {
			t.Fatalf("Update: err = %v", err)
		}
		if got, _ := s.Get(t.Context(), r.ID); got.Metadata.ClientName != "Example App" || got.Revision != 1 {
			t.Fatalf("refused update changed the entry: %+v", got)
		}
	})
}

// TestCorruptEntry: an entry edited into nonsense by hand yields an error
// naming it, never a panic or a half-decoded record.
func TestCorruptEntry(t *testing.T) {
	s, srv := newStore(t)
	if err := s.Create(t.Context(), storetest.NewRecord("corrupt")); err != nil {
		t.Fatal(err)
	}
	for _, edit := range [][2]string{{"dcrMetadata", `{"redirect_uris": 7}`}, {"dcrMetadata", "not json"},
		{"dcrOwnerPrincipal", `{"scopes": "dcr"}`}, {"dcrSoftwareStatement", "[]"}} {
		mod := ldap.NewModifyRequest(dn("corrupt", s.cfg.BaseDN), nil)
		mod.Replace(edit[0], []string{edit[1]})
		if err := rawConn(t, srv).Modify(mod); err != nil {
			t.Fatal(err)
		}
		_, err := s.Get(t.Context(), "corrupt")
		if err == nil || errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get of corrupt entry: err = %v", err)
		}
		if !strings.Contains(err.Error(), edit[0]) {
			t.Fatalf("the error %q does not name %s", err, edit[0])
		}
		if err := s.Walk(t.Context(), store.Query{}, func(client.Record) error { return nil }); err == nil {
			t.Fatal("Walk over a corrupt entry succeeded")
		}
	}
}

func TestConfigErrors(t *testing.T) {
	_, err := New(t.Context(), Config{PoolSize: -1, SecretScheme: "{CLEAR}"}, nil)
	if err == nil {
		t.Fatal("New accepted an empty config")
	}
	for _, want := range []string{"no LDAP URLs", "no base DN", "pool size -1", `"{CLEAR}"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
