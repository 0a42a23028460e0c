package provision

import (
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/schema"
	"github.com/dcrgate/dcrgate/schema/ds389test"
)

const (
	serviceDN = "cn=dcrgate,ou=services," + slapdtest.Suffix
	readerDN  = "cn=as,ou=services," + slapdtest.Suffix
	password  = "service-password"
)

// target is what the tests prepare: the gateway's defaults.
func target() Target {
	return Target{BaseDN: slapdtest.ClientsDN, ServiceDN: serviceDN, ServicePassword: password}
}

// fresh starts a slapd as Debian installs it.
func fresh(t *testing.T) *slapdtest.Server {
	t.Helper()
	return slapdtest.StartWith(t, slapdtest.Options{Fresh: true})
}

// open opens a session as root over ldapi would, with the rootdn's
// password when admin is set.
func open(t *testing.T, srv *slapdtest.Server, admin bool) *Session {
	t.Helper()
	a := Access{URL: srv.LDAPIURL}
	if admin {
		a.AdminPassword = srv.BindPassword
	}
	s, err := Open(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func plan(t *testing.T, s *Session, tg Target) Plan {
	t.Helper()
	p, err := s.Plan(t.Context(), tg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func summaries(p Plan) []string {
	var out []string
	for _, c := range p.Changes {
		out = append(out, c.Summary)
	}
	return out
}

// apply applies p and returns the summaries reported.
func apply(t *testing.T, s *Session, p Plan) []string {
	t.Helper()
	var done []string
	if err := s.Apply(p, func(c Change) { done = append(done, c.Summary) }); err != nil {
		t.Fatal(err)
	}
	return done
}

// wantReady: a new plan is empty, and the service account binds over
// ldap:// and reads the base DN, as serve will.
func wantReady(t *testing.T, srv *slapdtest.Server, s *Session, tg Target) {
	t.Helper()
	if again := plan(t, s, tg); !again.Empty() {
		t.Errorf("second plan: %v, want nothing", summaries(again))
	}
	conn, err := ldap.DialURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Bind(tg.ServiceDN, tg.ServicePassword); err != nil {
		t.Fatalf("service account bind: %v", err)
	}
	if err := Verify(conn, tg.BaseDN); err != nil {
		t.Fatal(err)
	}
}

// TestInitFreshSlapd: on Debian's fresh slapd, init plans every step in
// order, applies it, and then has nothing left to do, even without the
// rootdn's password (the service account sees what the rules hide).
func TestInitFreshSlapd(t *testing.T) {
	srv := fresh(t)
	s := open(t, srv, true)
	p := plan(t, s, target())
	want := []string{
		"module pw-sha2",
		"schema cn={4}dcrgate",
		"index dcrClientId eq", "index dcrOwnerSubject eq", "index dcrOwnerTokenId eq",
		"entry ou=services," + slapdtest.Suffix,
		"service account " + serviceDN,
		"entry " + slapdtest.ClientsDN,
		`limit dn.exact="` + serviceDN + `" size=unlimited`,
		"access rules {0}-{2} of olcDatabase={1}mdb,cn=config",
	}
	if got := summaries(p); !slices.Equal(got, want) {
		t.Fatalf("plan:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if done := apply(t, s, p); !slices.Equal(done, want) {
		t.Errorf("applied %v", done)
	}
	wantReady(t, srv, s, target())
	again := plan(t, open(t, srv, false), target())
	if !again.Empty() {
		t.Errorf("plan without the rootdn's password: %v, want nothing", summaries(again))
	}
	if !slices.ContainsFunc(again.Notes, func(n string) bool { return strings.Contains(n, "password is left as it is") }) {
		t.Errorf("notes %v do not say the service account's password was left alone", again.Notes)
	}
}

// TestLDIFAppliesWithLdapmodify: the dry run's LDIF, applied with
// ldap-utils as an administrator would (cn=config over ldapi with SASL
// EXTERNAL, entries as the rootdn), does what Apply does.
func TestLDIFAppliesWithLdapmodify(t *testing.T) {
	srv := fresh(t)
	s := open(t, srv, true)
	p := plan(t, s, target())
	var full strings.Builder
	if err := p.WriteLDIF(&full); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(full.String(), password) {
		t.Fatal("the LDIF shows the service account's clear password")
	}
	for _, run := range runs(p) {
		var ldif strings.Builder
		if err := run.WriteLDIF(&ldif); err != nil {
			t.Fatal(err)
		}
		args := []string{"-Q", "-Y", "EXTERNAL", "-H", srv.LDAPIURL}
		if run.Changes[0].Via == ViaData {
			args = []string{"-x", "-D", srv.BindDN, "-w", srv.BindPassword, "-H", srv.LDAPIURL}
		}
		cmd := exec.Command("ldapmodify", args...)
		cmd.Stdin = strings.NewReader(ldif.String())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ldapmodify %v: %v\n%s\nLDIF:\n%s", args, err, out, ldif.String())
		}
	}
	wantReady(t, srv, s, target())
}

// runs splits p into plans of consecutive changes over one connection.
func runs(p Plan) []Plan {
	var out []Plan
	for _, c := range p.Changes {
		if len(out) == 0 || out[len(out)-1].Changes[0].Via != c.Via {
			out = append(out, Plan{Database: p.Database, AdminDN: p.AdminDN})
		}
		out[len(out)-1].Changes = append(out[len(out)-1].Changes, c)
	}
	return out
}

// TestSchemeModulesAndLastBind: the secret scheme's module and the
// lastbind overlay, for idle reaping, are loaded once.
func TestSchemeModulesAndLastBind(t *testing.T) {
	srv := fresh(t)
	s := open(t, srv, true)
	tg := target()
	tg.SecretScheme, tg.LastBind = "{ARGON2}", true
	got := summaries(plan(t, s, tg))
	for _, want := range []string{"module pw-sha2", "module argon2", "module lastbind", "overlay lastbind (precision 3600 s)"} {
		if !slices.Contains(got, want) {
			t.Errorf("plan %v has no %q", got, want)
		}
	}
	apply(t, s, plan(t, s, tg))
	wantReady(t, srv, s, tg)
}

// TestRefusals: init stops, changing nothing, where it would have to guess.
func TestRefusals(t *testing.T) {
	srv := fresh(t)
	cases := []struct {
		name    string
		prepare func(t *testing.T, s *Session) Target
		want    error
		says    string
	}{
		{"fail/no database for the base DN", func(t *testing.T, _ *Session) Target {
			tg := target()
			tg.BaseDN = "ou=clients,dc=elsewhere,dc=net"
			return tg
		}, ErrNoDatabase, "ou=clients,dc=elsewhere,dc=net"},
		{"fail/unknown secret scheme", func(t *testing.T, _ *Session) Target {
			tg := target()
			tg.SecretScheme = "{MD5}"
			return tg
		}, nil, `unknown secret scheme "{MD5}"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, srv, true)
			_, err := s.Plan(t.Context(), tc.prepare(t, s))
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("plan: %v, want %v saying %q", err, tc.want, tc.says)
			}
		})
	}
}

// TestRefusesADifferentSchema: an installed dcrgate schema that differs
// from this version's is reported, attribute by attribute, and left alone.
func TestRefusesADifferentSchema(t *testing.T) {
	srv := fresh(t)
	s := open(t, srv, true)
	def := schema.Definition()
	def.AttributeTypes[0].SingleValue = false
	ldif := schema.OpenLDAPConfig{}.Render(def)
	add, err := parseEntry(string(ldif))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.config.Add(add); err != nil {
		t.Fatal(err)
	}
	_, err = s.Plan(t.Context(), target())
	if !errors.Is(err, ErrSchemaMismatch) || !strings.Contains(err.Error(), "dcrClientId") || !strings.Contains(err.Error(), "mismatch") {
		t.Fatalf("plan: %v, want the mismatch of dcrClientId", err)
	}
}

// TestRefusesPartOfTheRules: rules installed for one reader are not
// silently rewritten for another.
func TestRefusesPartOfTheRules(t *testing.T) {
	srv := fresh(t)
	s := open(t, srv, true)
	apply(t, s, plan(t, s, target()))
	tg := target()
	tg.ReaderDN = readerDN
	_, err := s.Plan(t.Context(), tg)
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), readerDN) {
		t.Fatalf("plan: %v, want a conflict naming the reader's rule", err)
	}
}

// TestNoConfigAccess: an identity that may not read cn=config is told so.
func TestNoConfigAccess(t *testing.T) {
	srv := fresh(t)
	if err := planAs(t, Access{URL: srv.URL, BindDN: srv.BindDN, BindPassword: srv.BindPassword}); !errors.Is(err, ErrConfigAccess) {
		t.Fatalf("plan as the database's rootdn: %v, want %v", err, ErrConfigAccess)
	}
}

// TestRefusesOtherDirectories: 389 Directory Server has a cn=config of its
// own, but not OpenLDAP's; init refuses it rather than guess.
func TestRefusesOtherDirectories(t *testing.T) {
	srv := ds389test.Start(t)
	if err := planAs(t, Access{URL: srv.URL, BindDN: srv.BindDN, BindPassword: srv.BindPassword}); !errors.Is(err, ErrNotOpenLDAP) {
		t.Fatalf("plan on 389-DS: %v, want %v", err, ErrNotOpenLDAP)
	}
}

// planAs plans the default target over a session opened with a.
func planAs(t *testing.T, a Access) error {
	t.Helper()
	s, err := Open(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Plan(t.Context(), target())
	return err
}

// TestRules: the reader's clause is there only with a reader, and every
// credential hash is kept to the service account.
func TestRules(t *testing.T) {
	without, with := NewRules(slapdtest.ClientsDN, serviceDN, ""), NewRules(slapdtest.ClientsDN, serviceDN, readerDN)
	if strings.Contains(strings.Join(without.Access, " "), readerDN) {
		t.Errorf("rules without a reader name one: %v", without.Access)
	}
	if !strings.Contains(with.Access[1], `by dn.exact="`+readerDN+`" read`) {
		t.Errorf("rule {1} does not let the reader read: %s", with.Access[1])
	}
	for _, attr := range []string{"userPassword", "dcrSecretHash", "dcrRegistrationTokenHash", "dcrSuspendedSecret"} {
		if !strings.Contains(with.Access[0], attr) {
			t.Errorf("rule {0} does not protect %s: %s", attr, with.Access[0])
		}
	}
	if !strings.Contains(with.Access[2], `dn.children="ou=services,`+slapdtest.Suffix+`"`) {
		t.Errorf("rule {2} is not about the service account's siblings: %s", with.Access[2])
	}
}
