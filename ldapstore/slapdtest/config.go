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
func configLDIF(dir, dcrgateSchemaPath, rootPasswordHash string, tls *tlsFiles, opts Options) string {
	var modules, overlays string
	if HasModule("pw-pbkdf2") {
		modules += "olcModuleLoad: pw-pbkdf2\n"
	}
	if opts.HashCleartext {
		modules += "olcModuleLoad: ppolicy\n"
		overlays = ppolicyLDIF
	}
	if opts.LastBind {
		modules += "olcModuleLoad: lastbind\n"
		overlays += lastbindLDIF
	}
	return fmt.Sprintf(`dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: %[1]s/slapd.pid
olcArgsFile: %[1]s/slapd.args
%[8]s
dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: %[2]s
olcModuleLoad: back_mdb
olcModuleLoad: pw-sha2
olcModuleLoad: argon2
%[9]s
dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file://%[3]s/core.ldif

include: file://%[3]s/cosine.ldif

include: file://%[3]s/inetorgperson.ldif

include: file://%[4]s

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: unlimited

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcDbDirectory: %[1]s/data
olcDbMaxSize: 4294967296
olcSuffix: %[5]s
olcRootDN: %[6]s
olcRootPW: %[7]s
%[11]s%[12]s%[10]s`, dir, moduleDir, schemaDir, dcrgateSchemaPath, Suffix, AdminDN, rootPasswordHash, tls.ldif(), modules, overlays,
		indexLDIF(), accessLDIF(opts.ACL))
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
	var b strings.Builder
	for i, r := range rules {
		fmt.Fprintf(&b, "olcAccess: {%d}%s\n", i, r)
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

// baseLDIF holds the entries every test starts from.
func baseLDIF() string {
	return fmt.Sprintf(`dn: %s
objectClass: top
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: %s
objectClass: top
objectClass: organizationalUnit
ou: clients
`, Suffix, ClientsDN)
}

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
