package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrgate/dcrgate/config"
	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
)

// TestDirectoryInit is issue #14's proof: on Debian's fresh slapd, the
// command as the docs give it prepares the directory, a second run has
// nothing to do, and the service account then passes the store's
// conformance suite while a client binds with its secret and nobody else
// reads a hash. Before that, it refuses what it cannot do, changing
// nothing, and --dry-run prints LDIF and changes nothing either.
func TestDirectoryInit(t *testing.T) {
	srv := slapdtest.StartWith(t, slapdtest.Options{Fresh: true})
	dir := t.TempDir()
	cfg := writeInitConfig(t, dir, srv)
	adminPW := writeFile(t, dir, "admin.pw", srv.BindPassword+"\n")
	initArgs := func(extra ...string) []string {
		return append([]string{"directory", "init", "-c", cfg, "--url", srv.LDAPIURL, "--reader-dn", asDN}, extra...)
	}

	refusals := []struct {
		name, says string
		args       []string
	}{
		{"fail/cn=config over TCP, where SASL EXTERNAL has no identity", "run as root on the server over ldapi:///",
			[]string{"directory", "init", "-c", cfg, "--url", srv.URL}},
		{"fail/entries without the rootdn's password", "give --admin-password-file", initArgs()},
	}
	for _, tc := range refusals {
		if out, err := runCLI(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v (output %q), want an error saying %q", tc.name, err, out, tc.says)
		}
	}

	out, err := runCLI(t, initArgs("--dry-run")...)
	if err != nil || !strings.Contains(out, "changetype: add\n") || !strings.Contains(out, "dn: "+slapdtest.ClientsDN+"\n") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if strings.Contains(out, servicePassword) {
		t.Fatal("the dry run shows the service account's clear password")
	}

	// The first real run adds everything: neither the refusals nor the
	// dry run changed anything.
	out, err = runCLI(t, initArgs("--admin-password-file", adminPW)...)
	if err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	wantLines(t, out, "added module pw-sha2", "added schema cn={4}dcrgate", "added index dcrClientId eq",
		"added service account "+serviceDN, "added entry "+slapdtest.ClientsDN,
		"added access rules {0}-{2} of olcDatabase={1}mdb,cn=config", "ok: "+serviceDN+" binds at "+srv.URL)

	out, err = runCLI(t, initArgs()...)
	if err != nil {
		t.Fatalf("second init: %v\n%s", err, out)
	}
	wantLines(t, out, "nothing to do: the directory is ready", "ok: "+serviceDN)

	addAccount(t, srv, asDN, asPassword)
	proveRules(t, srv, map[string]string{serviceDN: servicePassword, asDN: asPassword})
}

// writeInitConfig writes the gateway configuration init prepares srv for:
// serve's view of the directory, over ldap://.
func writeInitConfig(t *testing.T, dir string, srv *slapdtest.Server) string {
	t.Helper()
	bindPW := writeFile(t, dir, "bind.pw", servicePassword+"\n")
	return writeFile(t, dir, "dcrgate.yaml", fmt.Sprintf(`ldap:
  urls: [%s]
  base_dn: %q
  bind_dn: %q
  bind_password_file: %s
  timeout: 5s
`, srv.URL, slapdtest.ClientsDN, serviceDN, bindPW))
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// wantLines wants each of prefixes to start a line of out, in order.
func wantLines(t *testing.T, out string, prefixes ...string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	i := 0
	for _, p := range prefixes {
		for i < len(lines) && !strings.HasPrefix(lines[i], p) {
			i++
		}
		if i == len(lines) {
			t.Fatalf("no line %q (in this order) in:\n%s", p, out)
		}
	}
}

// TestInitAccess: the server is --url, else the first of $LDAPURI (the
// ldap-utils convention), else ldapi:///; a bind DN needs its password.
func TestInitAccess(t *testing.T) {
	cases := []struct {
		name, env, want string
		f               initFlags
	}{
		{"ok/ldapi by default", "", "ldapi:///", initFlags{}},
		{"ok/the first of LDAPURI", "ldap://a.example ldap://b.example", "ldap://a.example", initFlags{}},
		{"ok/--url wins", "ldap://a.example", "ldapi://%2Frun%2Fslapd%2Fldapi", initFlags{url: "ldapi://%2Frun%2Fslapd%2Fldapi"}},
		{"fail/--bind-dn without its password", "", "", initFlags{bindDN: "cn=admin,cn=config"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("LDAPURI", tc.env)
			a, err := initAccess(config.LDAP{}, tc.f)
			if tc.want == "" {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil || a.URL != tc.want {
				t.Fatalf("URL %q, %v; want %q", a.URL, err, tc.want)
			}
		})
	}
}
