package live

import (
	"slices"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/config"
	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/schema"
)

// TestCheckAgainstSlapd reads the schema a real slapd loaded from the
// committed OpenLDAP LDIF: it matches this version's definition, and a
// definition that has grown by an attribute (a newer dcrgate against this
// directory) is reported as missing exactly that.
func TestCheckAgainstSlapd(t *testing.T) {
	srv := slapdtest.Start(t)
	conn, err := Dial(t.Context(), config.LDAP{URLs: []string{"ldap://127.0.0.1:1", srv.URL},
		BindDN: srv.BindDN, BindPassword: srv.BindPassword, Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	got, err := Read(conn)
	if err != nil {
		t.Fatal(err)
	}
	if got.SubschemaDN != "cn=Subschema" || got.ActiveDirectory || len(got.Unreadable) > 0 {
		t.Fatalf("server = %s, AD %t, unreadable %v", got.SubschemaDN, got.ActiveDirectory, got.Unreadable)
	}
	t.Run("ok/this version", func(t *testing.T) {
		if r := schema.Check(schema.Definition(), got.Installed, got.Options()); !r.OK() {
			t.Fatalf("installed schema does not match: %+v", r.Findings)
		}
	})
	t.Run("fail/newer definition", func(t *testing.T) {
		newer := schema.Definition()
		newer.AttributeTypes = append(newer.AttributeTypes, schema.AttributeType{Number: 999, Name: "dcrNew",
			Syntax: schema.SyntaxIA5String, Equality: "caseExactIA5Match"})
		newer.ObjectClasses[0].May = append(newer.ObjectClasses[0].May, "dcrNew")
		r := schema.Check(newer, got.Installed, got.Options())
		var bad []string
		for _, f := range r.Findings {
			if f.Status != schema.StatusOK {
				bad = append(bad, f.Name+" "+string(f.Status))
			}
		}
		if want := []string{"dcrNew missing", "dcrClient mismatch"}; !slices.Equal(bad, want) {
			t.Fatalf("findings %v, want %v", bad, want)
		}
	})
}

func TestDialFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  config.LDAP
	}{
		{"fail/no urls", config.LDAP{}},
		{"fail/nothing listening", config.LDAP{URLs: []string{"ldap://127.0.0.1:1"}, Timeout: time.Second}},
		{"fail/bad CA file", config.LDAP{URLs: []string{"ldaps://127.0.0.1:1"}, CAFile: "/nonexistent"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if conn, err := Dial(t.Context(), tc.cfg); err == nil {
				conn.Close()
				t.Fatal("dial succeeded")
			}
		})
	}
}

func TestWrongPassword(t *testing.T) {
	srv := slapdtest.Start(t)
	_, err := Dial(t.Context(), config.LDAP{URLs: []string{srv.URL}, BindDN: srv.BindDN, BindPassword: "wrong"})
	if err == nil {
		t.Fatal("bind with a wrong password succeeded")
	}
}
