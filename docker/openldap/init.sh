#!/bin/sh
# First start: build cn=config and the base entries offline with slapadd,
# then run slapd in the foreground. Later starts reuse the volumes.
# The olcLimits and olcAccess rules of the mdb database are the ones
# `dcrgate directory init --reader-dn cn=as,ou=services,...` writes
# (provision.NewRules) and docs/directories.md gives administrators, the
# suffix aside (cmd/dcrgate TestACLsAreOneSet); TestACLsOnSlapd proves the
# access rules on a real slapd.
set -eu

SUFFIX="${LDAP_SUFFIX:-dc=example,dc=org}"
CONFIG_DIR="${LDAP_CONFIG_DIR:-/etc/ldap/slapd.d}"
DATA_DIR="${LDAP_DATA_DIR:-/var/lib/ldap}"
SCHEMA_DIR="${LDAP_SCHEMA_DIR:-/etc/ldap/schema}"
ADMIN_PW="$(cat "${LDAP_ADMIN_PASSWORD_FILE:?set LDAP_ADMIN_PASSWORD_FILE}")"
DCRGATE_PW="$(cat "${DCRGATE_BIND_PASSWORD_FILE:?set DCRGATE_BIND_PASSWORD_FILE}")"
hash() { slappasswd -o module-path=/usr/lib/ldap -o module-load=pw-sha2 -h '{SSHA512}' -s "$1"; }

if [ ! -e "$CONFIG_DIR/cn=config.ldif" ]; then
  mkdir -p "$CONFIG_DIR" "$DATA_DIR"
  cat > /tmp/config.ldif <<LDIF
dn: cn=config
objectClass: olcGlobal
cn: config

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: pw-sha2
olcModuleLoad: argon2

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file://${SCHEMA_DIR}/core.ldif

include: file://${SCHEMA_DIR}/cosine.ldif

include: file://${SCHEMA_DIR}/inetorgperson.ldif

include: file://${SCHEMA_DIR}/dcrgate.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by dn.exact=gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth manage by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcDbDirectory: ${DATA_DIR}
olcSuffix: ${SUFFIX}
olcRootDN: cn=admin,${SUFFIX}
olcRootPW: $(hash "$ADMIN_PW")
olcDbIndex: objectClass eq
olcDbIndex: dcrClientId eq
olcDbIndex: dcrOwnerSubject eq
olcDbIndex: dcrOwnerTokenId eq
olcLimits: {0}dn.exact="cn=dcrgate,ou=services,${SUFFIX}" size=unlimited
olcAccess: {0}to dn.subtree="ou=clients,${SUFFIX}"
  attrs=userPassword,dcrRegistrationTokenHash,dcrRetainedSecret,dcrSecretHash,dcrPreviousTokenHash,dcrSuspendedSecret
  by dn.exact="cn=dcrgate,ou=services,${SUFFIX}" write
  by anonymous auth
  by * none
olcAccess: {1}to dn.subtree="ou=clients,${SUFFIX}"
  by dn.exact="cn=dcrgate,ou=services,${SUFFIX}" write
  by dn.exact="cn=as,ou=services,${SUFFIX}" read
  by * none
olcAccess: {2}to dn.children="ou=services,${SUFFIX}" attrs=userPassword
  by self write
  by anonymous auth
  by * none
LDIF
  DC="$(echo "$SUFFIX" | sed -e 's/^dc=\([^,]*\).*/\1/')"
  cat > /tmp/base.ldif <<LDIF
dn: ${SUFFIX}
objectClass: top
objectClass: dcObject
objectClass: organization
dc: ${DC}
o: ${DC}

dn: ou=services,${SUFFIX}
objectClass: organizationalUnit
ou: services

dn: cn=dcrgate,ou=services,${SUFFIX}
objectClass: applicationProcess
objectClass: simpleSecurityObject
cn: dcrgate
userPassword: $(hash "$DCRGATE_PW")

dn: ou=clients,${SUFFIX}
objectClass: organizationalUnit
ou: clients
LDIF
  slapadd -n0 -F "$CONFIG_DIR" -l /tmp/config.ldif
  slapadd -F "$CONFIG_DIR" -b "$SUFFIX" -l /tmp/base.ldif
  rm -f /tmp/config.ldif /tmp/base.ldif
fi

exec slapd -d "${LDAP_DEBUG:-0}" -h "${LDAP_URLS:-ldap:/// ldapi:///}" -F "$CONFIG_DIR"
