package slapdtest

import (
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
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
// and one mdb database. userPassword is readable only for authentication,
// as a production directory would have it; the rootdn bypasses ACLs.
func configLDIF(dir, dcrgateSchemaPath, rootPasswordHash string) string {
	return fmt.Sprintf(`dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: %[1]s/slapd.pid
olcArgsFile: %[1]s/slapd.args

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: %[2]s
olcModuleLoad: back_mdb
olcModuleLoad: pw-sha2
olcModuleLoad: argon2

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
olcDbMaxSize: 268435456
olcSuffix: %[5]s
olcRootDN: %[6]s
olcRootPW: %[7]s
olcDbIndex: objectClass eq
olcDbIndex: dcrClientId eq
olcDbIndex: dcrOwnerSubject eq
olcDbIndex: dcrRedirectURI eq
olcDbIndex: dcrSoftwareId eq
olcDbIndex: dcrExpiresAt eq
olcAccess: {0}to attrs=userPassword by anonymous auth by * none
olcAccess: {1}to * by * none
`, dir, moduleDir, schemaDir, dcrgateSchemaPath, Suffix, AdminDN, rootPasswordHash)
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

// SSHA512 hashes password the way OpenLDAP's pw-sha2 module verifies
// {SSHA512}: base64(SHA-512(password || salt) || salt) with a random 16-byte
// salt. It exists for test fixtures (the rootpw, client secrets in tests);
// production hashing belongs to the credentials package.
func SSHA512(password string) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails (Go 1.24+)
	sum := sha512.Sum512(append([]byte(password), salt...))
	return "{SSHA512}" + base64.StdEncoding.EncodeToString(append(sum[:], salt...))
}

// randomPassword returns a fresh bind password (128 random bits) for one
// throwaway server.
func randomPassword() string { return rand.Text() }
