package schema

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the committed schema renderings")

// TestCommittedRenderings fails when a committed file differs from what the
// definition renders, so nobody ships a schema the code does not write.
func TestCommittedRenderings(t *testing.T) {
	def := Definition()
	for _, d := range Dialects {
		t.Run(d.Name(), func(t *testing.T) {
			want := d.Render(def)
			if *update {
				if err := os.WriteFile(filepath.FromSlash(d.Path()), want, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			got, err := Committed(d)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s is stale; run go test ./schema -update\n--- rendered:\n%s", d.Path(), want)
			}
		})
	}
}

func TestOpenLDAPLDIFIsCommittedFile(t *testing.T) {
	want, err := os.ReadFile(filepath.FromSlash(OpenLDAPConfig{}.Path()))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(OpenLDAPLDIF(), want) {
		t.Fatal("embedded LDIF differs from the file on disk")
	}
}

// TestDefinitionRules checks the rules every attribute must follow (see
// DESIGN.md, "The directory entry").
func TestDefinitionRules(t *testing.T) {
	def := Definition()
	names, numbers := map[string]bool{}, map[int]bool{}
	printable := regexp.MustCompile(`^[\x20-\x7e]+$`)
	for _, a := range def.AttributeTypes {
		switch {
		case !strings.HasPrefix(a.Name, "dcr"):
			t.Errorf("%s: name lacks the dcr prefix", a.Name)
		case names[a.Name] || numbers[a.Number] || a.Number <= 0:
			t.Errorf("%s: duplicate or invalid name/number %d", a.Name, a.Number)
		case a.Equality == "" || a.Syntax == "":
			t.Errorf("%s: no EQUALITY or SYNTAX", a.Name)
		case a.Syntax == SyntaxGeneralizedTime && a.Ordering == "":
			t.Errorf("%s: a time needs an ORDERING rule", a.Name)
		case adSyntax[a.Syntax] == [2]string{}:
			t.Errorf("%s: syntax %s has no Active Directory mapping", a.Name, a.Syntax)
		case a.Indexed && a.Confidential:
			t.Errorf("%s: indexed and confidential", a.Name)
		case !printable.MatchString(a.Desc):
			t.Errorf("%s: DESC must be printable ASCII", a.Name)
		}
		names[a.Name], numbers[a.Number] = true, true
	}
	for _, o := range def.ObjectClasses {
		for _, attr := range append(append([]string(nil), o.Must...), o.May...) {
			if !names[attr] && attr != AttrUserPassword {
				t.Errorf("%s lists undefined attribute %s", o.Name, attr)
			}
			delete(names, attr)
		}
	}
	for name := range names {
		t.Errorf("%s is not allowed by any object class", name)
	}
}

func TestQDString(t *testing.T) {
	if got, want := qdstring(`it's a \ test`), `'it\27s a \5C test'`; got != want {
		t.Fatalf("qdstring = %s, want %s", got, want)
	}
}

func TestAttributeLookup(t *testing.T) {
	a, ok := Definition().Attribute(AttrRevision)
	if !ok || a.OID() != Arc+".1.17" || !a.SingleValue {
		t.Fatalf("Attribute(%s) = %+v, %v", AttrRevision, a, ok)
	}
	if _, ok := Definition().Attribute("cn"); ok {
		t.Fatal("found an attribute dcrgate does not define")
	}
}

// TestOIDsArePinned fails when a published OID changes meaning: OIDs are
// permanent, the schema only grows. Append a row when adding an element;
// never edit one.
func TestOIDsArePinned(t *testing.T) {
	published := map[string]string{
		Arc + ".1.1": "dcrClientId", Arc + ".1.2": "dcrMetadata", Arc + ".1.3": "dcrRedirectURI",
		Arc + ".1.4": "dcrGrantType", Arc + ".1.5": "dcrResponseType", Arc + ".1.6": "dcrScope",
		Arc + ".1.7": "dcrTokenEndpointAuthMethod", Arc + ".1.8": "dcrSoftwareId",
		Arc + ".1.9": "dcrSoftwareVersion", Arc + ".1.10": "dcrClientName", Arc + ".1.11": "dcrOwnerIssuer",
		Arc + ".1.12": "dcrOwnerSubject", Arc + ".1.13": "dcrIssuedAt", Arc + ".1.14": "dcrSecretExpiresAt",
		Arc + ".1.15": "dcrExpiresAt", Arc + ".1.16": "dcrDisabled", Arc + ".1.17": "dcrRevision",
		Arc + ".1.18": "dcrRegistrationTokenHash", Arc + ".1.19": "dcrRetainedSecret",
		Arc + ".1.20": "dcrOwnerTokenId", Arc + ".1.21": "dcrSecretHash",
		Arc + ".2.1": "dcrClient",
	}
	if Arc != "2.25.71491115520463514838077391917685742528" {
		t.Fatalf("the arc changed to %s", Arc)
	}
	defined := map[string]string{}
	def := Definition()
	for _, a := range def.AttributeTypes {
		defined[a.OID()] = a.Name
	}
	for _, o := range def.ObjectClasses {
		defined[o.OID()] = o.Name
	}
	for oid, name := range published {
		if defined[oid] != name {
			t.Errorf("%s was published as %s, the definition now says %q", oid, name, defined[oid])
		}
	}
}

// TestActiveDirectoryRendering checks what the RFC 4512 parser cannot:
// each attributeSchema object carries its OID, AD syntax pair and flags.
func TestActiveDirectoryRendering(t *testing.T) {
	b, err := Committed(ActiveDirectory{})
	if err != nil {
		t.Fatal(err)
	}
	def := Definition()
	ids := ldifValues(t, b, "attributeID")
	syntaxes, oms := ldifValues(t, b, "attributeSyntax"), ldifValues(t, b, "oMSyntax")
	single, flags := ldifValues(t, b, "isSingleValued"), ldifValues(t, b, "searchFlags")
	if len(ids) != len(def.AttributeTypes) || len(syntaxes) != len(ids) || len(oms) != len(ids) ||
		len(single) != len(ids) || len(flags) != len(ids) {
		t.Fatalf("%d attributeIDs for %d attributes, or a missing line", len(ids), len(def.AttributeTypes))
	}
	for i, a := range def.AttributeTypes {
		pair := adSyntax[a.Syntax]
		wantFlags := map[[2]bool]string{{false, false}: "0", {true, false}: "1", {false, true}: "128"}[[2]bool{a.Indexed, a.Confidential}]
		if ids[i] != a.OID() || syntaxes[i] != pair[0] || oms[i] != pair[1] ||
			single[i] != strings.ToUpper(fmt.Sprint(a.SingleValue)) || flags[i] != wantFlags {
			t.Errorf("%s: %s %s/%s %s flags %s", a.Name, ids[i], syntaxes[i], oms[i], single[i], flags[i])
		}
	}
	for _, name := range []string{AttrClientID, AttrOwnerSubject, AttrOwnerTokenID} {
		if a, _ := def.Attribute(name); !a.Indexed {
			t.Errorf("%s is searched by the gateway but not indexed", name)
		}
	}
	for _, name := range []string{AttrSecretHash, AttrRegistrationTokenHash, AttrRetainedSecret} {
		if a, _ := def.Attribute(name); !a.Confidential {
			t.Errorf("%s holds credential hashes but is not confidential", name)
		}
	}
	may := ldifValues(t, b, "mayContain")
	if slices.Contains(may, AttrUserPassword) || len(may) != len(def.ObjectClasses[0].May)-1 {
		t.Errorf("mayContain = %v", may)
	}
	if got := ldifValues(t, b, "governsID"); !slices.Equal(got, []string{def.ObjectClasses[0].OID()}) {
		t.Errorf("governsID = %v", got)
	}
	if n := len(ldifValues(t, b, "schemaUpdateNow")); n != 2 {
		t.Errorf("%d schema cache refreshes, want 2 (after the attributes, after the class)", n)
	}
	if bytes.Contains(b, []byte("schemaIDGUID")) {
		t.Error("schemaIDGUID must be left to AD")
	}
}
