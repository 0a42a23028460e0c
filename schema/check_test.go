package schema

import (
	"bufio"
	"bytes"
	"slices"
	"strings"
	"testing"
)

// ldifValues unfolds an LDIF file (RFC 2849: a line starting with one
// space continues the previous one) and returns the values of attr.
func ldifValues(t *testing.T, ldif []byte, attr string) []string {
	t.Helper()
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(ldif))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, " ") && len(lines) > 0 {
			lines[len(lines)-1] += line[1:]
			continue
		}
		lines = append(lines, line)
	}
	var values []string
	for _, line := range lines {
		if v, ok := strings.CutPrefix(line, attr+": "); ok {
			values = append(values, v)
		}
	}
	return values
}

// installedFrom parses a committed cn=schema style rendering back, as a
// server would publish it.
func installedFrom(t *testing.T, d Dialect, attrType, objClass string) Installed {
	t.Helper()
	b, err := Committed(d)
	if err != nil {
		t.Fatal(err)
	}
	in, errs := ParseInstalled(ldifValues(t, b, attrType), ldifValues(t, b, objClass))
	if len(errs) > 0 {
		t.Fatalf("%s: %v", d.Name(), errs)
	}
	return in
}

// TestRenderingsParseBack reads each RFC 4512 rendering with the parser
// and finds it equal to the definition: the files say what the Go says.
func TestRenderingsParseBack(t *testing.T) {
	for _, tc := range []struct {
		d                  Dialect
		attrType, objClass string
	}{
		{OpenLDAPConfig{}, "olcAttributeTypes", "olcObjectClasses"},
		{DS389{}, "attributeTypes", "objectClasses"},
		{OpenDS{}, "attributeTypes", "objectClasses"},
	} {
		t.Run("ok/"+tc.d.Name(), func(t *testing.T) {
			in := installedFrom(t, tc.d, tc.attrType, tc.objClass)
			def := Definition()
			if len(in.AttributeTypes) != len(def.AttributeTypes) || len(in.ObjectClasses) != len(def.ObjectClasses) {
				t.Fatalf("parsed %d types and %d classes", len(in.AttributeTypes), len(in.ObjectClasses))
			}
			if r := Check(def, in, CheckOptions{}); !r.OK() {
				t.Fatalf("rendering differs from the definition:\n%s", table(t, r))
			}
			for i, a := range def.AttributeTypes {
				if in.AttributeTypes[i].Desc != a.Desc {
					t.Errorf("%s: DESC %q, want %q", a.Name, in.AttributeTypes[i].Desc, a.Desc)
				}
			}
		})
	}
}

func table(t *testing.T, r Report) string {
	t.Helper()
	var b strings.Builder
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestCheck(t *testing.T) {
	base := func(t *testing.T) Installed { return installedFrom(t, DS389{}, "attributeTypes", "objectClasses") }
	attr := func(in Installed, name string) *InstalledAttributeType {
		for i := range in.AttributeTypes {
			if hasName(in.AttributeTypes[i].Names, name) {
				return &in.AttributeTypes[i]
			}
		}
		panic(name)
	}
	for _, tc := range []struct {
		name    string
		opts    CheckOptions
		mutate  func(in *Installed)
		element string
		status  Status
		problem string
	}{
		{name: "ok/identical", mutate: func(*Installed) {}},
		{name: "ok/names differ in case, rules given as OIDs", mutate: func(in *Installed) {
			a := attr(*in, AttrRevision)
			a.Names, a.Equality, a.Ordering = []string{"DCRREVISION"}, "2.5.13.14", "2.5.13.15"
		}},
		{name: "ok/class lists attributes by OID", mutate: func(in *Installed) {
			in.ObjectClasses[0].May[0] = attr(*in, in.ObjectClasses[0].May[0]).OID
		}},
		{name: "fail/missing attribute", element: AttrDisabledReason, status: StatusMissing, problem: "not installed",
			mutate: func(in *Installed) { in.AttributeTypes = in.AttributeTypes[:len(in.AttributeTypes)-1] }},
		{name: "fail/wrong syntax", element: AttrRevision, status: StatusMismatch,
			problem: "SYNTAX is " + SyntaxDirectoryString + ", want " + SyntaxInteger,
			mutate:  func(in *Installed) { attr(*in, AttrRevision).Syntax = SyntaxDirectoryString }},
		{name: "fail/wrong equality", element: AttrRedirectURI, status: StatusMismatch,
			problem: "EQUALITY is caseIgnoreMatch, want caseExactMatch",
			mutate:  func(in *Installed) { attr(*in, AttrRedirectURI).Equality = "caseIgnoreMatch" }},
		{name: "fail/no ordering", element: AttrExpiresAt, status: StatusMismatch,
			problem: "ORDERING is (none), want generalizedTimeOrderingMatch",
			mutate:  func(in *Installed) { attr(*in, AttrExpiresAt).Ordering = "" }},
		{name: "fail/multi-valued", element: AttrRevision, status: StatusMismatch,
			problem: "SINGLE-VALUE is false, want true",
			mutate:  func(in *Installed) { attr(*in, AttrRevision).SingleValue = false }},
		{name: "fail/different OID", element: AttrClientID, status: StatusMismatch,
			problem: "OID is 1.2.3, want " + Arc + ".1.1",
			mutate:  func(in *Installed) { attr(*in, AttrClientID).OID = "1.2.3" }},
		{name: "fail/OID taken by another name", element: AttrMetadata, status: StatusMismatch,
			problem: "OID " + Arc + ".1.2 is installed as otherMetadata",
			mutate:  func(in *Installed) { attr(*in, AttrMetadata).Names = []string{"otherMetadata"} }},
		{name: "fail/missing MAY", element: ClassClient, status: StatusMismatch, problem: "does not allow " + AttrOwnerTokenID,
			mutate: func(in *Installed) {
				in.ObjectClasses[0].May = slices.DeleteFunc(in.ObjectClasses[0].May, func(s string) bool { return s == AttrOwnerTokenID })
			}},
		{name: "fail/extra MUST", element: ClassClient, status: StatusMismatch,
			problem: "requires dcrMetadata, which dcrgate does not always write",
			mutate: func(in *Installed) {
				in.ObjectClasses[0].Must = append(in.ObjectClasses[0].Must, AttrMetadata)
			}},
		{name: "fail/auxiliary class", element: ClassClient, status: StatusMismatch, problem: "kind is AUXILIARY, want STRUCTURAL",
			mutate: func(in *Installed) { in.ObjectClasses[0].Kind = "AUXILIARY" }},
		{name: "fail/missing class", element: ClassClient, status: StatusMissing, problem: "not installed",
			mutate: func(in *Installed) { in.ObjectClasses = nil }},
		{name: "ok/active directory publishes no rules", opts: CheckOptions{ActiveDirectory: true},
			mutate: func(in *Installed) { toActiveDirectory(in) }},
		{name: "fail/active directory integer is large", opts: CheckOptions{ActiveDirectory: true},
			element: AttrRevision, status: StatusMismatch, problem: "SYNTAX is " + SyntaxInteger + ", want " + adLargeIntegerSyntax,
			mutate: func(in *Installed) { toActiveDirectory(in); attr(*in, AttrRevision).Syntax = SyntaxInteger }},
		{name: "fail/active directory needs cn", opts: CheckOptions{ActiveDirectory: true},
			element: ClassClient, status: StatusMismatch, problem: "does not allow cn",
			mutate: func(in *Installed) {
				toActiveDirectory(in)
				in.ObjectClasses[0].Must = []string{AttrClientID}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := base(t)
			tc.mutate(&in)
			r := Check(Definition(), in, tc.opts)
			if tc.element == "" {
				if !r.OK() {
					t.Fatalf("want a full match:\n%s", table(t, r))
				}
				return
			}
			if r.OK() {
				t.Fatal("report is OK despite a mismatch")
			}
			for _, f := range r.Findings {
				if f.Name == tc.element {
					if f.Status != tc.status || !slices.Contains(f.Problems, tc.problem) {
						t.Fatalf("%s: %s %q, want %s %q", f.Name, f.Status, f.Problems, tc.status, tc.problem)
					}
				} else if f.Status != StatusOK {
					t.Errorf("unrelated finding %+v", f)
				}
			}
			if !strings.Contains(table(t, r), tc.problem) {
				t.Errorf("table lacks %q", tc.problem)
			}
		})
	}
}

// toActiveDirectory makes in look as AD publishes what the ad dialect
// installed: no matching rules, Large Integer, cn required, no userPassword.
func toActiveDirectory(in *Installed) {
	for i := range in.AttributeTypes {
		a := &in.AttributeTypes[i]
		a.Equality, a.Ordering, a.Substr = "", "", ""
		if a.Syntax == SyntaxInteger {
			a.Syntax = adLargeIntegerSyntax
		}
	}
	o := &in.ObjectClasses[0]
	o.Must = append([]string{"cn"}, o.Must...)
	o.May = slices.DeleteFunc(o.May, func(s string) bool { return s == AttrUserPassword })
}
