package schema

import (
	"bytes"
	"fmt"
)

// DS389 renders the schema as a 389 Directory Server schema file: the
// cn=schema subentry with attributeTypes and objectClasses values, each
// marked X-ORIGIN 'dcrgate' so `dsconf schema` and the console show where it
// came from. 389-DS reads every .ldif in the instance's schema directory at
// start or on `dsconf INSTANCE schema reload`.
type DS389 struct{}

// Name implements Dialect.
func (DS389) Name() string { return "389ds" }

// Path implements Dialect.
func (DS389) Path() string { return "389ds/99user.ldif" }

// Render implements Dialect.
func (DS389) Render(s Schema) []byte { return subschemaLDIF(s, "X-ORIGIN 'dcrgate'") }

// OpenDS renders the schema for the OpenDS family (OpenDJ, Wren:DS, PingDS
// and, with the same file, PingDirectory): a cn=schema file for the server's
// config/schema directory. X-SCHEMA-FILE keeps the definitions in that file
// when they are later changed over LDAP.
type OpenDS struct{}

// Name implements Dialect.
func (OpenDS) Name() string { return "opends" }

// Path implements Dialect.
func (OpenDS) Path() string { return "opends/99-dcrgate.ldif" }

// Render implements Dialect.
func (OpenDS) Render(s Schema) []byte {
	return subschemaLDIF(s, "X-ORIGIN 'dcrgate'", "X-SCHEMA-FILE '99-dcrgate.ldif'")
}

// subschemaLDIF renders the RFC 4512 §4.2 subschema subentry as the LDIF
// file 389-DS and the OpenDS family load from disk. Continuation lines start
// with two spaces, as in the OpenLDAP rendering: LDIF unfolding (RFC 2849)
// drops the first, the second separates the terms.
func subschemaLDIF(s Schema, extensions ...string) []byte {
	var b bytes.Buffer
	b.WriteString(header)
	b.WriteString("dn: cn=schema\nobjectClass: top\nobjectClass: ldapSubentry\nobjectClass: subschema\ncn: schema\n")
	const fold = "\n  "
	for _, a := range s.AttributeTypes {
		fmt.Fprintf(&b, "attributeTypes: %s\n", attributeTypeDescription(a, fold, extensions...))
	}
	for _, o := range s.ObjectClasses {
		fmt.Fprintf(&b, "objectClasses: %s\n", objectClassDescription(o, fold, extensions...))
	}
	return b.Bytes()
}
