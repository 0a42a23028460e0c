package schema

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
)

// ActiveDirectory renders the schema as an LDIF file for ldifde:
// attributeSchema and classSchema objects under the schema naming context,
// written with the placeholder DC=X that `ldifde -i -c "DC=X" "DC=corp,DC=example"`
// replaces with the forest root. AD generates schemaIDGUID itself.
//
// AD does not verify userPassword on a bind to such an entry, so the class
// does not offer it: the gateway writes the secret hashes to dcrSecretHash,
// a confidential attribute the authorization server reads and verifies.
type ActiveDirectory struct{}

// Name implements Dialect.
func (ActiveDirectory) Name() string { return "ad" }

// Path implements Dialect.
func (ActiveDirectory) Path() string { return "ad/dcrgate.ldif" }

// adSchemaDN is the schema naming context with ldifde's placeholder.
const adSchemaDN = "CN=Schema,CN=Configuration,DC=X"

// adSyntax is AD's (attributeSyntax, oMSyntax) pair for an LDAP syntax
// ([MS-ADTS] 3.1.1.2.2.2). Integers are Large Integer (64-bit), like the
// unbounded RFC 4517 INTEGER the other directories store.
var adSyntax = map[string][2]string{
	SyntaxIA5String:       {"2.5.5.5", "22"},
	SyntaxDirectoryString: {"2.5.5.12", "64"},
	SyntaxOctetString:     {"2.5.5.10", "4"},
	SyntaxGeneralizedTime: {"2.5.5.11", "24"},
	SyntaxBoolean:         {"2.5.5.8", "1"},
	SyntaxInteger:         {"2.5.5.16", "65"},
}

// AD searchFlags bits ([MS-ADTS] 2.2.9).
const (
	adSearchFlagIndexed      = 1
	adSearchFlagConfidential = 128
)

// adClassCategory is objectClassCategory for an RFC 4512 kind.
var adClassCategory = map[string]string{"STRUCTURAL": "1", "ABSTRACT": "2", "AUXILIARY": "3"}

// Render implements Dialect. The attributes come first, then a schema cache
// refresh so the class can name them, then the class and another refresh so
// the gateway can write entries at once.
func (ActiveDirectory) Render(s Schema) []byte {
	var b bytes.Buffer
	b.WriteString(header)
	b.WriteString("# Import: ldifde -i -f dcrgate.ldif -c \"DC=X\" \"DC=corp,DC=example\" (the forest root DN)\n")
	for _, a := range s.AttributeTypes {
		adAttribute(&b, a)
	}
	adSchemaUpdateNow(&b)
	for _, o := range s.ObjectClasses {
		adClass(&b, o)
	}
	adSchemaUpdateNow(&b)
	return b.Bytes()
}

func adAttribute(b *bytes.Buffer, a AttributeType) {
	// TestDefinitionRules guarantees a mapping; a missing one would render
	// empty values, which ldifde rejects.
	syntax := adSyntax[a.Syntax]
	adObjectHeader(b, a.Name, "attributeSchema", a.Desc)
	ldifLine(b, "attributeID", a.OID())
	ldifLine(b, "attributeSyntax", syntax[0])
	ldifLine(b, "oMSyntax", syntax[1])
	ldifLine(b, "isSingleValued", strings.ToUpper(fmt.Sprint(a.SingleValue)))
	flags := 0
	if a.Indexed {
		flags |= adSearchFlagIndexed
	}
	if a.Confidential {
		flags |= adSearchFlagConfidential
	}
	ldifLine(b, "searchFlags", fmt.Sprint(flags))
}

func adClass(b *bytes.Buffer, o ObjectClass) {
	adObjectHeader(b, o.Name, "classSchema", o.Desc)
	ldifLine(b, "governsID", o.OID())
	ldifLine(b, "objectClassCategory", adClassCategory[o.Kind])
	ldifLine(b, "subClassOf", o.Sup)
	ldifLine(b, "rDNAttID", "cn")
	ldifLine(b, "possSuperiors", "organizationalUnit")
	ldifLine(b, "possSuperiors", "container")
	ldifLine(b, "defaultObjectCategory", "CN="+o.Name+","+adSchemaDN)
	ldifLine(b, "mustContain", "cn")
	for _, attr := range o.Must {
		ldifLine(b, "mustContain", attr)
	}
	for _, attr := range ADMayContain(o) {
		ldifLine(b, "mayContain", attr)
	}
}

// ADMayContain is o's MAY list as Active Directory gets it: without
// userPassword, which AD neither verifies on bind for these entries nor
// allows on arbitrary classes.
func ADMayContain(o ObjectClass) []string {
	return slices.DeleteFunc(slices.Clone(o.May), func(a string) bool { return a == AttrUserPassword })
}

// adObjectHeader opens one schema object; cn and lDAPDisplayName are both
// the LDAP name, so administrators find it under one name everywhere.
func adObjectHeader(b *bytes.Buffer, name, class, desc string) {
	fmt.Fprintf(b, "\ndn: CN=%s,%s\nchangetype: add\nobjectClass: top\nobjectClass: %s\n", name, adSchemaDN, class)
	ldifLine(b, "cn", name)
	ldifLine(b, "lDAPDisplayName", name)
	ldifLine(b, "adminDisplayName", name)
	ldifLine(b, "adminDescription", desc)
	ldifLine(b, "showInAdvancedViewOnly", "TRUE")
}

// adSchemaUpdateNow asks the schema master to reload its schema cache
// (the rootDSE's schemaUpdateNow operational attribute).
func adSchemaUpdateNow(b *bytes.Buffer) {
	b.WriteString("\ndn:\nchangetype: modify\nadd: schemaUpdateNow\nschemaUpdateNow: 1\n-\n")
}

// ldifLine writes one attribute value, base64-encoded when it is not an
// RFC 2849 SAFE-STRING (non-ASCII, or starting with a space, ':' or '<').
func ldifLine(b *bytes.Buffer, attr, value string) {
	if safeLDIFString(value) {
		fmt.Fprintf(b, "%s: %s\n", attr, value)
		return
	}
	fmt.Fprintf(b, "%s:: %s\n", attr, base64.StdEncoding.EncodeToString([]byte(value)))
}

func safeLDIFString(s string) bool {
	if s != "" && strings.ContainsAny(s[:1], " :<") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c == '\n' || c == '\r' || c > 0x7f {
			return false
		}
	}
	return !strings.HasSuffix(s, " ")
}
