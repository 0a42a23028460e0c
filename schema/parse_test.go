package schema

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// parseCase is one table row for either parser; err means ErrSyntax.
type parseCase[T any] struct {
	name string
	in   string
	want T
	err  bool
}

func runParseCases[T any](t *testing.T, parse func(string) (T, error), cases []parseCase[T]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parse(tc.in)
			if tc.err {
				if !errors.Is(err, ErrSyntax) {
					t.Fatalf("err = %v, want ErrSyntax", err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, %v\nwant %+v", got, err, tc.want)
			}
		})
	}
}

func TestParseAttributeType(t *testing.T) {
	runParseCases(t, ParseAttributeType, []parseCase[InstalledAttributeType]{
		{name: "ok/full", in: "( 1.2.3 NAME 'a' DESC 'it\\27s \\5C' EQUALITY caseExactMatch ORDERING x SUBSTR y SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{256} SINGLE-VALUE X-ORIGIN ( 'dcrgate' 'other' ) )",
			want: InstalledAttributeType{OID: "1.2.3", Names: []string{"a"}, Desc: `it's \`, Equality: "caseExactMatch",
				Ordering: "x", Substr: "y", Syntax: "1.3.6.1.4.1.1466.115.121.1.15", SingleValue: true}},
		{name: "ok/names list, no spaces", in: "(1.2.3 NAME ('a' 'b') SUP name USAGE userApplications)",
			want: InstalledAttributeType{OID: "1.2.3", Names: []string{"a", "b"}, Sup: "name"}},
		{name: "ok/active directory quotes the syntax", in: "( 1.2.840.113556.1.4.1 NAME 'name' SYNTAX '1.3.6.1.4.1.1466.115.121.1.15' SINGLE-VALUE NO-USER-MODIFICATION )",
			want: InstalledAttributeType{OID: "1.2.840.113556.1.4.1", Names: []string{"name"}, Syntax: "1.3.6.1.4.1.1466.115.121.1.15", SingleValue: true}},
		{name: "ok/lower-case keywords and newlines", in: "( 1.2\n  name 'a'\n  single-value )",
			want: InstalledAttributeType{OID: "1.2", Names: []string{"a"}, SingleValue: true}},
		{name: "fail/empty", in: "", err: true},
		{name: "fail/no parenthesis", in: "1.2.3 NAME 'a'", err: true},
		{name: "fail/no closing parenthesis", in: "( 1.2.3 NAME 'a'", err: true},
		{name: "fail/unterminated quote", in: "( 1.2.3 NAME 'a )", err: true},
		{name: "fail/unknown keyword", in: "( 1.2.3 FOO bar )", err: true},
		{name: "fail/keyword twice", in: "( 1.2.3 NAME 'a' NAME 'b' )", err: true},
		{name: "fail/missing value", in: "( 1.2.3 SYNTAX )", err: true},
		{name: "fail/bad escape", in: "( 1.2.3 DESC 'a\\zz' )", err: true},
		{name: "fail/truncated escape", in: "( 1.2.3 DESC 'a\\2' )", err: true},
		{name: "fail/trailing text", in: "( 1.2.3 ) x", err: true},
		{name: "fail/value where keyword expected", in: "( 1.2.3 'a' )", err: true},
		{name: "fail/class keyword", in: "( 1.2.3 MUST a )", err: true},
	})
}

func TestParseObjectClass(t *testing.T) {
	runParseCases(t, ParseObjectClass, []parseCase[InstalledObjectClass]{
		{name: "ok/full", in: "( 1.2 NAME 'c' SUP top AUXILIARY MUST a MAY ( b $ c $ 1.2.3 ) X-ORIGIN 'x' )",
			want: InstalledObjectClass{OID: "1.2", Names: []string{"c"}, Sup: []string{"top"}, Kind: "AUXILIARY",
				Must: []string{"a"}, May: []string{"b", "c", "1.2.3"}}},
		{name: "ok/kind defaults to structural", in: "( 1.2 NAME 'c' )",
			want: InstalledObjectClass{OID: "1.2", Names: []string{"c"}, Kind: "STRUCTURAL"}},
		{name: "ok/empty list", in: "( 1.2 MAY ( ) )",
			want: InstalledObjectClass{OID: "1.2", Kind: "STRUCTURAL", May: []string{}}},
		{name: "fail/attribute keyword", in: "( 1.2 SYNTAX 1.3 )", err: true},
		{name: "fail/unclosed list", in: "( 1.2 MAY ( a $ b )", err: true},
		{name: "fail/dollar only", in: "( 1.2 MAY ( $ ) )", err: true},
	})
}

// FuzzParse checks the parsers never panic, and that whatever they accept
// re-parses to the same value once rendered (for the attribute types the
// definition's renderer can express).
func FuzzParse(f *testing.F) {
	def := Definition()
	for _, a := range def.AttributeTypes {
		f.Add(attributeTypeDescription(a, " ", "X-ORIGIN 'dcrgate'"))
	}
	f.Add(objectClassDescription(def.ObjectClasses[0], "\n  "))
	f.Add("( 1.2 NAME ( 'a' 'b' ) DESC '\\27\\5c' SYNTAX '1.3{4}' )")
	f.Add("( 1 MAY ( a $ b ) )")
	f.Fuzz(func(t *testing.T, s string) {
		a, errA := ParseAttributeType(s)
		_, errO := ParseObjectClass(s)
		for _, err := range []error{errA, errO} {
			if err != nil && !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v does not wrap ErrSyntax", err)
			}
		}
		if errA != nil || len(a.Names) != 1 || a.Sup != "" || a.OID == "" || strings.ContainsAny(a.OID+a.Syntax+a.Equality+a.Ordering+a.Substr, "'{}()$ \t\n\r") {
			return
		}
		rendered := attributeTypeDescription(AttributeType{Name: a.Names[0], Desc: a.Desc, Syntax: a.Syntax,
			Equality: a.Equality, Ordering: a.Ordering, Substr: a.Substr, SingleValue: a.SingleValue}, " ")
		rendered = strings.Replace(rendered, "( "+attributeArc+".0", "( "+a.OID, 1)
		again, err := ParseAttributeType(rendered)
		if err != nil || !reflect.DeepEqual(again, a) {
			t.Fatalf("%q parsed to %+v; rendered as %q it parses to %+v, %v", s, a, rendered, again, err)
		}
	})
}
