package slapdtest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestStartAndRestart(t *testing.T) {
	s := Start(t)
	search := func() {
		t.Helper()
		conn, err := ldap.DialURL(s.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := conn.Bind(s.BindDN, s.BindPassword); err != nil {
			t.Fatal(err)
		}
		res, err := conn.Search(ldap.NewSearchRequest(s.BaseDN, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
			0, 0, false, "(objectClass=*)", []string{"ou"}, nil))
		if err != nil || len(res.Entries) != 1 {
			t.Fatalf("search %s: %v %v", s.BaseDN, res, err)
		}
	}
	search()
	if _, err := s.NewOU(); err != nil {
		t.Fatal(err)
	}
	if err := s.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	search()
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", s.Pid())); s.Pid() <= 0 || err != nil {
		t.Fatalf("Pid() = %d is not a running process: %v", s.Pid(), err)
	}
	s.Stop()
	s.Stop() // idempotent
	if pid := s.Pid(); pid != 0 {
		t.Fatalf("Pid() after Stop = %d, want 0", pid)
	}
	if _, err := ldap.DialURL(s.URL); err == nil {
		t.Fatal("slapd still answers after Stop")
	}
}

func TestTLSAndHashCleartext(t *testing.T) {
	s := StartWith(t, Options{TLS: true, HashCleartext: true})
	pool := x509.NewCertPool()
	pem, err := os.ReadFile(s.CA.File)
	if err != nil || !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("CA file: %v", err)
	}
	conn, err := ldap.DialURL(s.LDAPSURL, ldap.DialWithTLSConfig(&tls.Config{RootCAs: pool}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Bind(s.BindDN, s.BindPassword); err != nil {
		t.Fatal(err)
	}
	add := ldap.NewAddRequest("cn=hashed,"+s.Suffix, nil)
	add.Attribute("objectClass", []string{"person"})
	add.Attribute("cn", []string{"hashed"})
	add.Attribute("sn", []string{"hashed"})
	add.Attribute("userPassword", []string{"clear-secret"})
	if err := conn.Add(add); err != nil {
		t.Fatal(err)
	}
	res, err := conn.Search(ldap.NewSearchRequest("cn=hashed,"+s.Suffix, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		0, 0, false, "(objectClass=*)", []string{"userPassword"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatal(res, err)
	}
	if v := res.Entries[0].GetAttributeValue("userPassword"); !strings.HasPrefix(v, "{SSHA}") {
		t.Fatalf("userPassword stored as %q, want hashed on write", v)
	}
}

// TestIndexesFollowTheSchema: the throwaway directory indexes what the
// docs tell administrators to, dcrOwnerTokenId included, which the quota
// count of max_registrations_per_token searches on.
func TestIndexesFollowTheSchema(t *testing.T) {
	ldif := indexLDIF()
	for _, name := range []string{"dcrClientId", "dcrOwnerSubject", "dcrOwnerTokenId"} {
		if !strings.Contains(ldif, "olcDbIndex: "+name+" eq\n") {
			t.Errorf("no equality index on %s:\n%s", name, ldif)
		}
	}
}

// TestFresh: a Fresh server is Debian's fresh slapd as the current user
// sees it over ldapi: SASL EXTERNAL manages cn=config, which has back_mdb
// only and no dcrgate schema; the database holds the suffix and nothing
// below; the rootdn binds with its {SSHA} password over ldap://.
func TestFresh(t *testing.T) {
	s := StartWith(t, Options{Fresh: true})
	conn, err := ldap.DialURL(s.LDAPIURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.ExternalBind(); err != nil {
		t.Fatalf("SASL EXTERNAL over %s: %v", s.LDAPIURL, err)
	}
	if got := values(t, conn, "cn=module{0},cn=config", "olcModuleLoad"); strings.Join(got, " ") != "{0}back_mdb" {
		t.Errorf("modules %v, want back_mdb only", got)
	}
	schemas := children(t, conn, "cn=schema,cn=config")
	if len(schemas) != 4 || strings.Contains(strings.Join(schemas, " "), "dcrgate") {
		t.Errorf("schemas %v, want core, cosine, nis, inetorgperson", schemas)
	}
	if got := children(t, conn, s.Suffix); len(got) != 0 {
		t.Errorf("entries below the suffix: %v, want none", got)
	}
	rootdn, err := ldap.DialURL(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer rootdn.Close()
	if err := rootdn.Bind(s.BindDN, s.BindPassword); err != nil {
		t.Fatalf("rootdn bind: %v", err)
	}
}

// values reads one attribute of dn.
func values(t *testing.T, conn *ldap.Conn, dn, attr string) []string {
	t.Helper()
	res, err := conn.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{attr}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("read %s: %v", dn, err)
	}
	return res.Entries[0].GetAttributeValues(attr)
}

// children lists the DNs right below dn.
func children(t *testing.T, conn *ldap.Conn, dn string) []string {
	t.Helper()
	res, err := conn.Search(ldap.NewSearchRequest(dn, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"1.1"}, nil))
	if err != nil {
		t.Fatalf("list %s: %v", dn, err)
	}
	var dns []string
	for _, e := range res.Entries {
		dns = append(dns, e.DN)
	}
	return dns
}

// TestLongDirGetsShortSocket: a server directory too deep for a Unix
// socket's path still gets an ldapi listener, in a directory of its own
// that Stop removes.
func TestLongDirGetsShortSocket(t *testing.T) {
	Require(t)
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", maxSocketPath))
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	s, err := LaunchWith(t.Context(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	conn, err := ldap.DialURL(s.LDAPIURL)
	if err != nil {
		t.Fatalf("dial %s: %v", s.LDAPIURL, err)
	}
	conn.Close()
	s.Stop()
	if _, err := os.Stat(s.socketDir); s.socketDir == "" || !os.IsNotExist(err) {
		t.Fatalf("socket directory %q after Stop: %v, want removed", s.socketDir, err)
	}
}
