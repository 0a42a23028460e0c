package schema

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
)

// Dialect renders the schema in one directory server's format. Adding a
// directory (389-DS, OpenDJ, Active Directory) means adding a Dialect and
// committing its rendering; the golden test then covers it too.
type Dialect interface {
	// Name is the identifier `dcrgate schema print --dialect` takes.
	Name() string
	// Path is where the rendering is committed, slash-separated and relative
	// to this package's directory.
	Path() string
	Render(Schema) []byte
}

// Dialects lists every shipped rendering.
var Dialects = []Dialect{OpenLDAPConfig{}, OpenLDAPSchemaFile{}, DS389{}, OpenDS{}, ActiveDirectory{}}

// committed holds the renderings as committed, so the binary ships exactly
// the files the golden test checked.
//
//go:embed openldap 389ds opends ad
var committed embed.FS

// Committed returns the committed rendering of d.
func Committed(d Dialect) ([]byte, error) {
	b, err := committed.ReadFile(d.Path())
	if err != nil {
		return nil, fmt.Errorf("schema: no committed rendering for %s: %w", d.Name(), err)
	}
	return b, nil
}

// openLDAPLDIF is embedded on its own so OpenLDAPLDIF cannot fail.
//
//go:embed openldap/dcrgate.ldif
var openLDAPLDIF []byte

// OpenLDAPLDIF returns the committed cn=config LDIF, ready for
// `ldapadd -Y EXTERNAL -H ldapi:///` or `slapadd -n0`.
func OpenLDAPLDIF() []byte { return bytes.Clone(openLDAPLDIF) }

// attributeTypeDescription renders RFC 4512 §4.1.2 AttributeTypeDescription,
// putting sep between terms so each dialect can fold lines its own way, and
// ending with the dialect's extensions (RFC 4512 §4.1, "X-" terms).
func attributeTypeDescription(a AttributeType, sep string, extensions ...string) string {
	terms := []string{"( " + a.OID(), "NAME " + qdstring(a.Name), "DESC " + qdstring(a.Desc)}
	for _, rule := range []struct{ keyword, value string }{
		{"EQUALITY", a.Equality}, {"ORDERING", a.Ordering}, {"SUBSTR", a.Substr}, {"SYNTAX", a.Syntax},
	} {
		if rule.value != "" {
			terms = append(terms, rule.keyword+" "+rule.value)
		}
	}
	if a.SingleValue {
		terms = append(terms, "SINGLE-VALUE")
	}
	return strings.Join(append(terms, extensions...), sep) + " )"
}

// objectClassDescription renders RFC 4512 §4.1.1 ObjectClassDescription.
func objectClassDescription(o ObjectClass, sep string, extensions ...string) string {
	terms := []string{"( " + o.OID(), "NAME " + qdstring(o.Name), "DESC " + qdstring(o.Desc),
		"SUP " + o.Sup, o.Kind}
	if len(o.Must) > 0 {
		terms = append(terms, "MUST "+oids(o.Must))
	}
	if len(o.May) > 0 {
		terms = append(terms, "MAY "+oids(o.May))
	}
	return strings.Join(append(terms, extensions...), sep) + " )"
}

// oids renders RFC 4512 oids: one name, or a parenthesised $-separated list.
func oids(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return "( " + strings.Join(names, " $ ") + " )"
}

// qdstring quotes s as RFC 4512 §4.1 qdstring, escaping the quote and the
// backslash as \27 and \5C.
func qdstring(s string) string {
	return "'" + strings.NewReplacer(`\`, `\5C`, `'`, `\27`).Replace(s) + "'"
}
