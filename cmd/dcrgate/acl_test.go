package main

import (
	"bufio"
	"errors"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/ldapstore"
	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/provision"
	"github.com/dcrgate/dcrgate/schema"
	"github.com/dcrgate/dcrgate/store"
	"github.com/dcrgate/dcrgate/store/storetest"
)

// The files that state the OpenLDAP access rules: the compose stack's
// directory and the administrators' guide.
const (
	initScript     = "../../docker/openldap/init.sh"
	directoriesDoc = "../../docs/directories.md"
)

// The accounts the rules name, under the suffix both files use.
const (
	serviceDN = "cn=dcrgate,ou=services," + slapdtest.Suffix
	asDN      = "cn=as,ou=services," + slapdtest.Suffix
)

// exampleRules are the rules `dcrgate directory init --reader-dn` writes
// for the accounts and base DN init.sh and the docs use.
func exampleRules() provision.Rules {
	return provision.NewRules(slapdtest.ClientsDN, serviceDN, asDN)
}

// TestACLsAreOneSet: the limits and access rules init.sh installs and the
// docs give are the ones `dcrgate directory init` writes, the suffix aside,
// and the access rules keep every credential hash of the schema
// (userPassword and the attributes it marks confidential) to the service
// account.
func TestACLsAreOneSet(t *testing.T) {
	rules := exampleRules()
	for attr, want := range map[string][]string{"olcLimits": rules.Limits, "olcAccess": rules.Access} {
		for file, got := range map[string][]string{initScript: scriptRules(t, attr), directoriesDoc: docRules(t, attr)} {
			if !slices.Equal(got, want) {
				t.Errorf("%s of %s:\n  %s\nwant, as directory init writes them:\n  %s", attr, file,
					strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		}
	}
	want := []string{schema.AttrUserPassword}
	for _, a := range schema.Definition().AttributeTypes {
		if a.Confidential {
			want = append(want, a.Name)
		}
	}
	if got := protectedAttrs(t, rules.Access[0]); !sameSet(got, want) {
		t.Errorf("rule {0} protects %v, want the credential hashes %v", got, want)
	}
}

// scriptRules is the mdb database's attr values in init.sh, for
// dc=example,dc=org.
func scriptRules(t *testing.T, attr string) []string {
	t.Helper()
	text := strings.ReplaceAll(readFile(t, initScript), "${SUFFIX}", slapdtest.Suffix)
	return ldifValues(t, initScript, text, "dn: olcDatabase={1}mdb,cn=config", attr)
}

// docRules is the attr values the docs' ldapmodify example adds.
func docRules(t *testing.T, attr string) []string {
	t.Helper()
	return ldifValues(t, directoriesDoc, readFile(t, directoriesDoc), "add: "+attr, attr)
}

// ldifValues returns the values of attr in the LDIF record that starts at
// the line marker, unfolded (RFC 2849: a line that starts with a space
// continues the previous one) and without their {n} index, which must
// count from 0 in order.
func ldifValues(t *testing.T, name, text, marker, attr string) []string {
	t.Helper()
	_, record, ok := strings.Cut(text, marker+"\n")
	if !ok {
		t.Fatalf("%s: no %q", name, marker)
	}
	var rules []string
	for _, line := range unfold(record) {
		if line == "" || strings.HasPrefix(line, "```") {
			break
		}
		value, ok := strings.CutPrefix(line, attr+": ")
		if !ok {
			continue
		}
		rule, err := unindexed(value, len(rules))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rules = append(rules, rule)
	}
	if len(rules) == 0 {
		t.Fatalf("%s: no %s after %q", name, attr, marker)
	}
	return rules
}

// unfold joins LDIF continuation lines.
func unfold(text string) []string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, " "); ok && len(lines) > 0 {
			lines[len(lines)-1] += rest
			continue
		}
		lines = append(lines, line)
	}
	return lines
}

var ruleIndex = regexp.MustCompile(`^\{(\d+)\}`)

// unindexed strips the {n} of the rule expected at position n.
func unindexed(value string, n int) (string, error) {
	m := ruleIndex.FindStringSubmatch(value)
	if m == nil || m[1] != strconv.Itoa(n) {
		return "", errors.New("rule out of order or unnumbered: " + value)
	}
	return strings.Join(strings.Fields(value[len(m[0]):]), " "), nil
}

var attrsClause = regexp.MustCompile(`\battrs=(\S+)`)

// protectedAttrs is the attrs= list of rule.
func protectedAttrs(t *testing.T, rule string) []string {
	t.Helper()
	m := attrsClause.FindStringSubmatch(rule)
	if m == nil {
		t.Fatalf("no attrs= in %q", rule)
	}
	return strings.Split(m[1], ",")
}

// TestACLsOnSlapd installs the rules on a real slapd and exercises each
// promise: the service account binds and runs the whole store conformance
// suite; a client binds with its secret; the AS account reads the clients
// but no hash; nobody else reads or writes one.
func TestACLsOnSlapd(t *testing.T) {
	srv := slapdtest.StartWith(t, slapdtest.Options{ACL: exampleRules().Access})
	proveRules(t, srv, addAccounts(t, srv))
}

// proveRules checks the promises of the access rules on srv, where the
// service and AS accounts exist with the passwords of pw (by DN) and the
// base DN is slapdtest.ClientsDN.
func proveRules(t *testing.T, srv *slapdtest.Server, pw map[string]string) {
	t.Helper()
	t.Run("ok/store conformance as the service account", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return serviceStore(t, srv, pw, newClientsOU(t, srv)) })
	})
	st := serviceStore(t, srv, pw, slapdtest.ClientsDN)
	id, secret := "acl-client", "s3cret-of-the-client"
	rec := storetest.NewRecord(id)
	rec.Secrets = []client.SecretHash{{Hash: slapdtest.SSHA512(secret)}}
	if err := st.Create(t.Context(), rec); err != nil {
		t.Fatalf("create as the service account: %v", err)
	}
	clientDN := "dcrClientId=" + ldap.EscapeDN(id) + "," + slapdtest.ClientsDN
	for _, tc := range aclCases(srv, clientDN, secret, pw) {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, dial(t, srv)) })
	}
}

// aclCase is one promise, checked on a fresh connection.
type aclCase struct {
	name  string
	check func(t *testing.T, conn *ldap.Conn)
}

// aclCases are the promises of docs/directories.md beyond what the store
// suite covers.
func aclCases(srv *slapdtest.Server, clientDN, secret string, pw map[string]string) []aclCase {
	hashes := []string{"userPassword", "dcrRegistrationTokenHash"}
	return []aclCase{
		{"ok/service account reads the root DSE controls", func(t *testing.T, c *ldap.Conn) {
			bind(t, c, serviceDN, pw[serviceDN])
			if got := read(t, c, "", "supportedControl"); len(got["supportedControl"]) == 0 {
				t.Fatal("no supportedControl in the root DSE")
			}
		}},
		{"ok/service account reads the hashes", func(t *testing.T, c *ldap.Conn) {
			bind(t, c, serviceDN, pw[serviceDN])
			wantAttrs(t, read(t, c, clientDN, hashes...), hashes, nil)
		}},
		{"ok/client binds with its secret", func(t *testing.T, c *ldap.Conn) { bind(t, c, clientDN, secret) }},
		{"ok/AS account binds, reads the client, then verifies its secret", func(t *testing.T, c *ldap.Conn) {
			bind(t, c, asDN, pw[asDN])
			wantAttrs(t, read(t, c, clientDN, append([]string{"dcrClientId", "dcrRevision"}, hashes...)...),
				[]string{"dcrClientId", "dcrRevision"}, hashes)
			bind(t, c, clientDN, secret)
		}},
		{"ok/service account changes its own password", func(t *testing.T, c *ldap.Conn) {
			bind(t, c, serviceDN, pw[serviceDN])
			modify(t, c, serviceDN, "userPassword", slapdtest.SSHA512(pw[serviceDN]), nil)
		}},
		{"fail/client with a wrong secret", func(t *testing.T, c *ldap.Conn) {
			if err := c.Bind(clientDN, "not-the-secret"); !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
				t.Fatalf("bind: %v, want invalidCredentials", err)
			}
		}},
		{"fail/anonymous sees no client", func(t *testing.T, c *ldap.Conn) { wantNoEntry(t, c, clientDN) }},
		{"fail/client reads its own entry", func(t *testing.T, c *ldap.Conn) {
			bind(t, c, clientDN, secret)
			wantNoEntry(t, c, clientDN)
		}},
		{"fail/client writes its own secret", func(t *testing.T, c *ldap.Conn) {
			bind(t, c, clientDN, secret)
			modify(t, c, clientDN, "userPassword", "chosen-by-the-client", refused)
		}},
		{"fail/AS account writes a client", func(t *testing.T, c *ldap.Conn) {
			bind(t, c, asDN, pw[asDN])
			modify(t, c, clientDN, "dcrDisabled", "TRUE", refused)
		}},
		{"fail/AS account reads the service account's password", func(t *testing.T, c *ldap.Conn) {
			bind(t, c, asDN, pw[asDN])
			wantHidden(t, c, serviceDN, "userPassword")
		}},
	}
}

// refused wants the server's insufficientAccessRights.
func refused(t *testing.T, err error) {
	t.Helper()
	if !ldap.IsErrorWithCode(err, ldap.LDAPResultInsufficientAccessRights) {
		t.Fatalf("got %v, want insufficientAccessRights", err)
	}
}

// The accounts' passwords in these tests.
const (
	servicePassword = "service-password"
	asPassword      = "as-password"
)

// addAccounts adds ou=services with the dcrgate and AS accounts, as the
// rootdn, and returns their passwords by DN.
func addAccounts(t *testing.T, srv *slapdtest.Server) map[string]string {
	t.Helper()
	conn := dial(t, srv)
	bind(t, conn, srv.BindDN, srv.BindPassword)
	add(t, conn, "ou=services,"+slapdtest.Suffix, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {"services"}})
	pw := map[string]string{serviceDN: servicePassword, asDN: asPassword}
	for dn, p := range pw {
		addAccount(t, srv, dn, p)
	}
	return pw
}

// addAccount adds an account that only binds, as the rootdn.
func addAccount(t *testing.T, srv *slapdtest.Server, dn, password string) {
	t.Helper()
	conn := dial(t, srv)
	bind(t, conn, srv.BindDN, srv.BindPassword)
	cn := strings.TrimPrefix(strings.Split(dn, ",")[0], "cn=")
	add(t, conn, dn, map[string][]string{"objectClass": {"applicationProcess", "simpleSecurityObject"},
		"cn": {cn}, "userPassword": {slapdtest.SSHA512(password)}})
}

// newClientsOU adds an empty OU under ou=clients, where the rules give the
// service account its rights, for one conformance subtest.
func newClientsOU(t *testing.T, srv *slapdtest.Server) string {
	t.Helper()
	conn := dial(t, srv)
	bind(t, conn, srv.BindDN, srv.BindPassword)
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	dn := "ou=" + ldap.EscapeDN(name) + "," + slapdtest.ClientsDN
	add(t, conn, dn, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {name}})
	return dn
}

// serviceStore is an ldapstore bound as the service account.
func serviceStore(t *testing.T, srv *slapdtest.Server, pw map[string]string, base string) *ldapstore.Store {
	t.Helper()
	st, err := ldapstore.New(t.Context(), ldapstore.Config{URLs: []string{srv.URL}, BindDN: serviceDN,
		BindPassword: pw[serviceDN], BaseDN: base, Timeout: 5 * time.Second}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("store as the service account: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func dial(t *testing.T, srv *slapdtest.Server) *ldap.Conn {
	t.Helper()
	conn, err := ldap.DialURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func bind(t *testing.T, conn *ldap.Conn, dn, password string) {
	t.Helper()
	if err := conn.Bind(dn, password); err != nil {
		t.Fatalf("bind as %s: %v", dn, err)
	}
}

func add(t *testing.T, conn *ldap.Conn, dn string, attrs map[string][]string) {
	t.Helper()
	req := ldap.NewAddRequest(dn, nil)
	for name, values := range attrs {
		req.Attribute(name, values)
	}
	if err := conn.Add(req); err != nil {
		t.Fatalf("add %s: %v", dn, err)
	}
}

// modify replaces attr of dn with value; judge (nil: must succeed) checks
// the outcome.
func modify(t *testing.T, conn *ldap.Conn, dn, attr, value string, judge func(*testing.T, error)) {
	t.Helper()
	req := ldap.NewModifyRequest(dn, nil)
	req.Replace(attr, []string{value})
	err := conn.Modify(req)
	if judge != nil {
		judge(t, err)
	} else if err != nil {
		t.Fatalf("modify %s %s: %v", dn, attr, err)
	}
}

// read returns the attributes of dn (the root DSE for "") the connection
// may see, by name.
func read(t *testing.T, conn *ldap.Conn, dn string, attrs ...string) map[string][]string {
	t.Helper()
	res, err := conn.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", attrs, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("read %q: %v", dn, err)
	}
	got := map[string][]string{}
	for _, a := range res.Entries[0].Attributes {
		got[a.Name] = a.Values
	}
	return got
}

// wantNoEntry wants dn invisible: slapd answers noSuchObject rather than
// disclose an entry the caller may not read.
func wantNoEntry(t *testing.T, conn *ldap.Conn, dn string) {
	t.Helper()
	if entries := visible(t, conn, dn, "*"); len(entries) > 0 {
		t.Fatalf("%s is visible: %v", dn, entries[0].Attributes)
	}
}

// wantHidden wants none of attrs of dn readable: the entry invisible, or
// seen without them.
func wantHidden(t *testing.T, conn *ldap.Conn, dn string, attrs ...string) {
	t.Helper()
	for _, e := range visible(t, conn, dn, attrs...) {
		for _, a := range attrs {
			if vals := e.GetAttributeValues(a); len(vals) > 0 {
				t.Fatalf("%s of %s is readable: %v", a, dn, vals)
			}
		}
	}
}

// visible is dn as the connection may see it: no entry for noSuchObject.
func visible(t *testing.T, conn *ldap.Conn, dn string, attrs ...string) []*ldap.Entry {
	t.Helper()
	res, err := conn.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", attrs, nil))
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return nil
	}
	if err != nil {
		t.Fatalf("search %s: %v, want noSuchObject or the entry", dn, err)
	}
	return res.Entries
}

// wantAttrs wants every attribute of present in got and none of absent.
func wantAttrs(t *testing.T, got map[string][]string, present, absent []string) {
	t.Helper()
	for _, a := range present {
		if len(got[a]) == 0 {
			t.Errorf("%s not readable", a)
		}
	}
	for _, a := range absent {
		if len(got[a]) > 0 {
			t.Errorf("%s readable: %v", a, got[a])
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
