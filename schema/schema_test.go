package schema

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
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
