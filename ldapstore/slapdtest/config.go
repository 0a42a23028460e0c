package slapdtest

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/schema"
)

// Fixed layout of every throwaway directory.
const (
	// Suffix is the naming context of the test database.
	Suffix = "dc=example,dc=org"
	// ClientsDN is the base DN of client entries, created empty.
	ClientsDN = "ou=clients," + Suffix
	// AdminDN is the database's rootdn.
	AdminDN = "cn=admin," + Suffix
)

// Where Debian's slapd package keeps its modules and schemas.
var (
	moduleDir = "/usr/lib/ldap"
	schemaDir = "/etc/ldap/schema"
)

// configLDIF is the cn=config database for slapadd -n0: the modules the
// shipped schema and secret hashes need, the system schemas plus dcrgate's,
// and one mdb database with the access rules of accessLDIF. tlsLDIF and the
// ppolicy overlay are added as opts ask.
func configLDIF(dir, dcrgateSchemaPath, rootPasswordHash string, tls *tlsFiles, opts Options, repl *replication) string {
	modules := []string{"back_mdb", "pw-sha2", "argon2"}
	var overlays string
	if HasModule("pw-pbkdf2") {
		modules = append(modules, "pw-pbkdf2")
	}
	if opts.HashCleartext {
		modules = append(modules, "ppolicy")
		overlays = ppolicyLDIF
	}
	if opts.LastBind {
		modules = append(modules, "lastbind")
		overlays += lastbindLDIF
	}
	if repl != nil {
		modules = append(modules, "syncprov")
		overlays += syncprovLDIF
	}
	return globalLDIF(dir, tls) + repl.globalLDIF() + modulesLDIF(modules) +
		schemasLDIF("file://"+schemaDir+"/core.ldif", "file://"+schemaDir+"/cosine.ldif",
			"file://"+schemaDir+"/inetorgperson.ldif", "file://"+dcrgateSchemaPath) +
		`
dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: unlimited

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none
` + mdbLDIF(dir, rootPasswordHash) + indexLDIF() + accessLDIF(opts.ACL) + repl.databaseLDIF() + overlays
}

// globalLDIF is the cn=config entry: where slapd writes its pid and args
// (in the server's directory, not /var/run), and TLS when asked.
func globalLDIF(dir string, tls *tlsFiles) string {
	return fmt.Sprintf(`dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: %[1]s/slapd.pid
olcArgsFile: %[1]s/slapd.args
%[2]s`, dir, tls.ldif())
}

// modulesLDIF loads the named modules from Debian's module directory.
func modulesLDIF(names []string) string {
	out := "\ndn: cn=module{0},cn=config\nobjectClass: olcModuleList\ncn: module{0}\nolcModulePath: " + moduleDir + "\n"
	for _, name := range names {
		out += "olcModuleLoad: " + name + "\n"
	}
	return out
}

// schemasLDIF is cn=schema,cn=config with each schema file included, in
// order (each include must start a record of its own).
func schemasLDIF(files ...string) string {
	out := "\ndn: cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: schema\n"
	for _, f := range files {
		out += "\ninclude: " + f + "\n"
	}
	return out
}

// mdbLDIF opens the one mdb database, under Suffix, with AdminDN as its
// rootdn; its indexes and access rules follow.
func mdbLDIF(dir, rootPasswordHash string) string {
	return fmt.Sprintf(`
dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcDbDirectory: %s/data
olcDbMaxSize: 4294967296
olcSuffix: %s
olcRootDN: %s
olcRootPW: %s
`, dir, Suffix, AdminDN, rootPasswordHash)
}

// defaultACL keeps userPassword readable only for authentication, as a
// production directory would have it, and everything else to the rootdn,
// which bypasses ACLs.
var defaultACL = []string{"to attrs=userPassword by anonymous auth by * none", "to * by * none"}

// accessLDIF numbers rules (Options.ACL, or defaultACL) as the database's
// olcAccess values, in order.
func accessLDIF(rules []string) string {
	if len(rules) == 0 {
		rules = defaultACL
	}
	return ordered("olcAccess", rules)
}

// ordered renders values of an X-ORDERED attribute, numbered {0}, {1}, ...
func ordered(attr string, values []string) string {
	var b strings.Builder
	for i, v := range values {
		fmt.Fprintf(&b, "%s: {%d}%s\n", attr, i, v)
	}
	return b.String()
}

// extraIndexes are indexed beyond what the gateway searches on, for the
// searches an authorization server or an administrator makes.
var extraIndexes = []string{schema.AttrRedirectURI, schema.AttrSoftwareID, schema.AttrExpiresAt}

// indexLDIF indexes every attribute the schema marks Indexed, as
// docs/directories.md tells administrators to, so the tests and
// `dcrgate dev --ldap` run on the directory production is told to build.
func indexLDIF() string {
	var out string
	for _, name := range append(schema.Definition().EqualityIndexes(), extraIndexes...) {
		out += "olcDbIndex: " + name + " eq\n"
	}
	return out
}

// ppolicyLDIF makes slapd hash clear-text userPassword values on write
// (olcPPolicyHashCleartext), as 389-DS and PingDS do by default, with the
// global default scheme {SSHA}.
const ppolicyLDIF = `
dn: olcOverlay={0}ppolicy,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: {0}ppolicy
olcPPolicyHashCleartext: TRUE
`

// lastbindLDIF records every successful bind in the entry's pwdLastSuccess
// (precision 0: every bind, for tests; production sets a precision so a
// busy client costs a write an hour, not one per bind).
const lastbindLDIF = `
dn: olcOverlay=lastbind,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcLastBindConfig
olcOverlay: lastbind
olcLastBindPrecision: 0
`

// tlsFiles are the certificate files of a server that speaks TLS.
type tlsFiles struct{ ca, cert, key string }

// ldif holds the global TLS settings; "try" asks for a client certificate
// and ends the handshake if one is sent that the CA did not sign.
func (f *tlsFiles) ldif() string {
	if f == nil {
		return ""
	}
	return fmt.Sprintf("olcTLSCACertificateFile: %s\nolcTLSCertificateFile: %s\nolcTLSCertificateKeyFile: %s\nolcTLSVerifyClient: try\n",
		f.ca, f.cert, f.key)
}

// HasModule reports whether slapd can load the named module here, e.g.
// "pw-pbkdf2", which comes with Debian's slapd-contrib package.
func HasModule(name string) bool {
	_, err := os.Stat(filepath.Join(moduleDir, name+".la"))
	return err == nil
}

// baseLDIF holds the entries every test starts from: the suffix and the
// empty ClientsDN.
func baseLDIF() string {
	return suffixLDIF + fmt.Sprintf(`
dn: %s
objectClass: top
objectClass: organizationalUnit
ou: clients
`, ClientsDN)
}

// suffixLDIF is the naming context's entry, as Debian's slapd package
// creates it.
const suffixLDIF = `dn: ` + Suffix + `
objectClass: top
objectClass: dcObject
objectClass: organization
dc: example
o: Example
`

// SSHA512 hashes password as {SSHA512}, which OpenLDAP's pw-sha2 module
// verifies, for fixtures (the rootpw, client secrets in tests). It is the
// credentials package's hasher, so fixtures and production cannot drift.
func SSHA512(password string) string {
	h, _ := credentials.NewHasher(credentials.SchemeSSHA512) // the default scheme always exists
	hash, _ := h.Hash(password)                              // {SSHA512} hashing cannot fail
	return hash
}

// randomPassword returns a fresh bind password (128 random bits) for one
// throwaway server.
func randomPassword() string { return rand.Text() }
