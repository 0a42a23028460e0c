package ds389test

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/config"
	"github.com/dcrgate/dcrgate/ldapstore"
	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/schema"
	"github.com/dcrgate/dcrgate/schema/live"
	"github.com/dcrgate/dcrgate/store"
	"github.com/dcrgate/dcrgate/store/storetest"
)

// One server for the package's tests; each store gets its own OU.
var shared struct {
	once sync.Once
	srv  *Server
	dir  string
	err  error
}

func server(t *testing.T) *Server {
	t.Helper()
	Require(t)
	shared.once.Do(func() {
		if shared.dir, shared.err = os.MkdirTemp("", "ds389test-"); shared.err == nil {
			shared.srv, shared.err = Launch(context.Background(), shared.dir)
		}
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.srv
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		shared.srv.Stop()
	}
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

func newStore(t *testing.T, srv *Server) *ldapstore.Store {
	t.Helper()
	ou, err := srv.NewOU()
	if err != nil {
		t.Fatal(err)
	}
	s, err := ldapstore.New(t.Context(), ldapstore.Config{URLs: []string{srv.URL}, BindDN: srv.BindDN,
		BindPassword: srv.BindPassword, BaseDN: ou, Timeout: 5 * time.Second}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestConformance runs the storage suite against 389-DS with {SSHA512}
// userPassword values written pre-hashed.
func TestConformance(t *testing.T) {
	srv := server(t)
	storetest.Run(t, func(t *testing.T) store.Store { return newStore(t, srv) })
}

// TestBindVerifiesPrehashedSecret is how an authorization server checks a
// client secret on 389-DS: a simple bind as the client's DN against the
// {SSHA512} value the gateway wrote (nsslapd-allow-hashed-passwords: on).
func TestBindVerifiesPrehashedSecret(t *testing.T) {
	s := newStore(t, server(t))
	r := storetest.NewRecord("bindsecret")
	r.Secrets = []client.SecretHash{{Hash: slapdtest.SSHA512("s3cret-value")}}
	if err := s.Create(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, secret string
		want         bool
	}{{"ok/right secret", "s3cret-value", true}, {"fail/wrong secret", "s3cret-valuf", false}, {"fail/empty", "", false}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.VerifySecret(t.Context(), r.ID, tc.secret)
			if err != nil || got != tc.want {
				t.Fatalf("VerifySecret = %t, %v; want %t", got, err, tc.want)
			}
		})
	}
}

// TestSchemaCheck reads the schema 389-DS loaded from the committed
// 99user.ldif back over LDAP: the server publishes what dcrgate needs.
func TestSchemaCheck(t *testing.T) {
	srv := server(t)
	conn, err := live.Dial(t.Context(), config.LDAP{URLs: []string{srv.URL}, BindDN: srv.BindDN, BindPassword: srv.BindPassword})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	got, err := live.Read(conn)
	if err != nil {
		t.Fatal(err)
	}
	if r := schema.Check(schema.Definition(), got.Installed, got.Options()); !r.OK() {
		t.Fatalf("389-DS schema does not match: %+v", r.Findings)
	}
	if len(got.Unreadable) > 0 {
		t.Logf("%d of 389-DS's own definitions were skipped, e.g. %v", len(got.Unreadable), got.Unreadable[0])
	}
}

// TestSchemaCheckSeesChange changes one definition on a live 389-DS (adding
// a definition with a published OID to cn=schema replaces it) and expects
// the check to name exactly what changed.
func TestSchemaCheckSeesChange(t *testing.T) {
	srv := Start(t)
	conn, err := srv.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	a, _ := schema.Definition().Attribute(schema.AttrSoftwareVersion)
	oid := a.OID()
	mod := ldap.NewModifyRequest("cn=schema", nil)
	mod.Add("attributeTypes", []string{"( " + oid + " NAME '" + a.Name + "' EQUALITY caseIgnoreMatch SYNTAX " +
		schema.SyntaxDirectoryString + " SINGLE-VALUE X-ORIGIN 'test' )"})
	if err := conn.Modify(mod); err != nil {
		t.Fatal(err)
	}
	got, err := live.Read(conn)
	if err != nil {
		t.Fatal(err)
	}
	r := schema.Check(schema.Definition(), got.Installed, got.Options())
	var bad []string
	for _, f := range r.Findings {
		if f.Status != schema.StatusOK {
			bad = append(bad, f.Name+": "+strings.Join(f.Problems, "; "))
		}
	}
	want := []string{a.Name + ": EQUALITY is caseIgnoreMatch, want caseExactMatch; SUBSTR is (none), want caseExactSubstringsMatch"}
	if !slices.Equal(bad, want) {
		t.Fatalf("findings %q, want %q", bad, want)
	}
}
