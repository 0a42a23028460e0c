package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/schema"
)

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(t.Context())
	return out.String(), err
}

func TestSchemaPrint(t *testing.T) {
	for _, name := range []string{"openldap", "openldap-schema", "389ds", "opends", "ad"} {
		t.Run("ok/"+name, func(t *testing.T) {
			out, err := runCLI(t, "schema", "print", "--dialect", name)
			if err != nil || !strings.Contains(out, schema.Arc+".1.21") {
				t.Fatalf("err %v, output lacks the last OID:\n%.300s", err, out)
			}
		})
	}
	t.Run("fail/unknown", func(t *testing.T) {
		if _, err := runCLI(t, "schema", "print", "--dialect", "openldap-ldif"); err == nil {
			t.Fatal("old dialect name accepted")
		}
	})
}

func TestSchemaCheckCommand(t *testing.T) {
	srv := slapdtest.Start(t)
	path := filepath.Join(t.TempDir(), "dcrgate.yaml")
	yaml := "ldap:\n  urls: [" + srv.URL + "]\n  bind_dn: " + srv.BindDN + "\n  bind_password: " + srv.BindPassword +
		"\n  base_dn: " + srv.BaseDN + "\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "schema", "check", "--config", path)
	if err != nil || !strings.Contains(out, "objectclass  dcrClient") || strings.Contains(out, "mismatch") {
		t.Fatalf("err %v\n%s", err, out)
	}
	t.Log("\n" + out)

	bad := strings.Replace(yaml, srv.BindPassword, "wrong", 1)
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, "schema", "check", "--config", path); err == nil || errors.Is(err, errSchemaMismatch) {
		t.Fatalf("wrong password: err = %v", err)
	}
}
