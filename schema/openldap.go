package schema

import (
	"bytes"
	"fmt"
)

// header opens every rendering: a generated file says where it comes from.
const header = "# dcrgate directory schema, OID arc " + Arc + ".\n" +
	"# Generated from schema/definition.go; do not edit. Regenerate with\n" +
	"#   go test ./schema -update\n"

// OpenLDAPConfig renders the schema as an entry for OpenLDAP's cn=config
// (olcSchemaConfig), loadable online with ldapadd or offline with slapadd -n0.
type OpenLDAPConfig struct{}

// Name implements Dialect.
func (OpenLDAPConfig) Name() string { return "openldap" }

// Path implements Dialect.
func (OpenLDAPConfig) Path() string { return "openldap/dcrgate.ldif" }

// Render implements Dialect. Continuation lines start with two spaces: LDIF
// unfolding (RFC 2849) drops the first, the second separates the terms.
func (OpenLDAPConfig) Render(s Schema) []byte {
	var b bytes.Buffer
	b.WriteString(header)
	fmt.Fprintf(&b, "dn: cn=%s,cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: %s\n", s.Name, s.Name)
	const fold = "\n  "
	for _, a := range s.AttributeTypes {
		fmt.Fprintf(&b, "olcAttributeTypes: %s\n", attributeTypeDescription(a, fold))
	}
	for _, o := range s.ObjectClasses {
		fmt.Fprintf(&b, "olcObjectClasses: %s\n", objectClassDescription(o, fold))
	}
	return b.Bytes()
}

// OpenLDAPSchemaFile renders the schema in slapd.conf's .schema format, for
// installations that still use include directives.
type OpenLDAPSchemaFile struct{}

// Name implements Dialect.
func (OpenLDAPSchemaFile) Name() string { return "openldap-schema" }

// Path implements Dialect.
func (OpenLDAPSchemaFile) Path() string { return "openldap/dcrgate.schema" }

// Render implements Dialect. Lines starting with whitespace continue the
// previous directive in slapd.conf.
func (OpenLDAPSchemaFile) Render(s Schema) []byte {
	var b bytes.Buffer
	b.WriteString(header)
	const fold = "\n\t"
	for _, a := range s.AttributeTypes {
		fmt.Fprintf(&b, "\nattributetype %s\n", attributeTypeDescription(a, fold))
	}
	for _, o := range s.ObjectClasses {
		fmt.Fprintf(&b, "\nobjectclass %s\n", objectClassDescription(o, fold))
	}
	return b.Bytes()
}
