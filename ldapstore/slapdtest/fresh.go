package slapdtest

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"os"
)

// freshConfigLDIF is cn=config as Debian's `apt-get install slapd` leaves
// it (/usr/share/slapd/slapd.init.ldif): back_mdb the only module, the
// core, cosine, nis and inetorgperson schemas, a 500-entry size limit,
// Debian's indexes and access rules, and manage on everything for the
// local user over ldapi. Debian grants that to root; here it goes to the
// current user, since tests need not run as root.
func freshConfigLDIF(dir, rootPasswordHash string, tls *tlsFiles) string {
	schemas := []string{"core", "cosine", "nis", "inetorgperson"}
	for i, name := range schemas {
		schemas[i] = "file://" + schemaDir + "/" + name + ".ldif"
	}
	manage := fmt.Sprintf("to * by dn.exact=%s manage by * break", PeercredDN())
	return globalLDIF(dir, tls) + modulesLDIF([]string{"back_mdb"}) + schemasLDIF(schemas...) + `
dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: 500
` + ordered("olcAccess", []string{manage, `to dn.exact="" by * read`, `to dn.base="cn=Subschema" by * read`}) + `
dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcRootDN: cn=admin,cn=config
` + ordered("olcAccess", []string{manage}) + mdbLDIF(dir, rootPasswordHash) + debianMdbLDIF
}

// debianMdbLDIF is the rest of Debian's mdb database: its indexes, and
// access rules that let everyone read everything but the passwords.
var debianMdbLDIF = `olcDbCheckpoint: 512 30
olcLastMod: TRUE
olcDbIndex: objectClass eq
olcDbIndex: cn,uid eq
olcDbIndex: uidNumber,gidNumber eq
olcDbIndex: member,memberUid eq
` + ordered("olcAccess", []string{
	"to attrs=userPassword by self write by anonymous auth by * none",
	"to attrs=shadowLastChange by self write by * read",
	"to * by * read",
})

// PeercredDN is the identity slapd gives this process when it binds with
// SASL EXTERNAL over ldapi (its uid and gid, read from the socket): the
// one a Fresh server lets manage cn=config.
func PeercredDN() string {
	return fmt.Sprintf("gidNumber=%d+uidNumber=%d,cn=peercred,cn=external,cn=auth", os.Getgid(), os.Getuid())
}

// ssha hashes password as {SSHA} (salted SHA-1), the scheme Debian's
// postinst gives the rootdn and the only salted one slapd verifies without
// a module: a Fresh server has no pw-sha2 for {SSHA512}.
func ssha(password string) string {
	salt := make([]byte, 8)
	_, _ = rand.Read(salt)
	sum := sha1.Sum(append([]byte(password), salt...))
	return "{SSHA}" + base64.StdEncoding.EncodeToString(append(sum[:], salt...))
}
