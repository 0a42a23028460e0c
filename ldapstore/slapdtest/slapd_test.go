package slapdtest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
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
