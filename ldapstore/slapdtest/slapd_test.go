package slapdtest

import (
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
	s.Stop()
	s.Stop() // idempotent
	if _, err := ldap.DialURL(s.URL); err == nil {
		t.Fatal("slapd still answers after Stop")
	}
}
