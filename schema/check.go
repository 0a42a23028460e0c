package schema

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// Installed is the part of a live server's subschema entry (RFC 4512 §4.2)
// that Check reads.
type Installed struct {
	AttributeTypes []InstalledAttributeType
	ObjectClasses  []InstalledObjectClass
}

// ParseInstalled parses a subschema entry's attributeTypes and objectClasses
// values. A value it cannot read is skipped and reported in errs: servers
// publish hundreds of definitions, and one vendor oddity elsewhere must not
// hide whether dcrgate's own are right (a skipped dcr* definition then shows
// up as missing).
func ParseInstalled(attributeTypes, objectClasses []string) (in Installed, errs []error) {
	in.AttributeTypes = parseAll(attributeTypes, "attributeTypes", ParseAttributeType, &errs)
	in.ObjectClasses = parseAll(objectClasses, "objectClasses", ParseObjectClass, &errs)
	return in, errs
}

// parseAll parses every value, keeping those that parse and adding an error
// naming the attribute for each that does not.
func parseAll[T any](values []string, attr string, parse func(string) (T, error), errs *[]error) []T {
	var parsed []T
	for _, v := range values {
		p, err := parse(v)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("%s %.60q: %w", attr, v, err))
			continue
		}
		parsed = append(parsed, p)
	}
	return parsed
}

// CheckOptions adapts the comparison to a directory's way of publishing.
type CheckOptions struct {
	// ActiveDirectory compares against what the ad dialect installs: AD
	// publishes no matching rules (they follow from the syntax), shows
	// Large Integer as its own syntax, and the class has no userPassword
	// but requires cn.
	ActiveDirectory bool
}

// Status is the verdict on one schema element.
type Status string

// Statuses, as printed.
const (
	StatusOK       Status = "ok"
	StatusMissing  Status = "missing"
	StatusMismatch Status = "mismatch"
)

// Finding is the verdict on one attribute type or object class.
type Finding struct {
	// Kind is "attribute" or "objectclass".
	Kind     string
	Name     string
	Status   Status
	Problems []string
}

// Report is the outcome of Check, one finding per element of the wanted
// schema, in definition order.
type Report struct {
	Findings []Finding
}

// OK reports whether every element is installed as wanted.
func (r Report) OK() bool {
	return !slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Status != StatusOK })
}

// WriteTable prints the report as an aligned table, one row per element.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tNAME\tSTATUS\tDETAILS")
	for _, f := range r.Findings {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Kind, f.Name, f.Status, strings.Join(f.Problems, "; "))
	}
	return tw.Flush()
}

// adLargeIntegerSyntax is the syntax AD publishes for 2.5.5.16 attributes.
const adLargeIntegerSyntax = "1.2.840.113556.1.4.906"

// ruleOIDs maps the matching rules the definition uses to their OIDs
// (RFC 4517 §4.2), since a server may publish either form.
var ruleOIDs = map[string]string{
	"caseexactia5match": "1.3.6.1.4.1.1466.109.114.1", "caseexactmatch": "2.5.13.5",
	"caseexactsubstringsmatch": "2.5.13.7", "caseignorematch": "2.5.13.2",
	"caseignoresubstringsmatch": "2.5.13.4", "octetstringmatch": "2.5.13.17",
	"generalizedtimematch": "2.5.13.27", "generalizedtimeorderingmatch": "2.5.13.28",
	"booleanmatch": "2.5.13.13", "integermatch": "2.5.13.14", "integerorderingmatch": "2.5.13.15",
}

// Check compares the wanted schema with what a server has installed,
// element by element: the things that make the gateway's writes or searches
// fail or behave differently (OID, syntax, matching rules, SINGLE-VALUE,
// the class's MUST and MAY). Descriptions and extensions are not compared.
func Check(want Schema, got Installed, opts CheckOptions) Report {
	var r Report
	for _, a := range want.AttributeTypes {
		r.Findings = append(r.Findings, checkAttribute(a, got, opts))
	}
	for _, o := range want.ObjectClasses {
		r.Findings = append(r.Findings, checkClass(o, got, opts))
	}
	return r
}

func checkAttribute(want AttributeType, got Installed, opts CheckOptions) Finding {
	f := Finding{Kind: "attribute", Name: want.Name}
	i := slices.IndexFunc(got.AttributeTypes, func(a InstalledAttributeType) bool { return hasName(a.Names, want.Name) })
	if i < 0 {
		return missing(f, want.OID(), got)
	}
	a := got.AttributeTypes[i]
	wantSyntax := want.Syntax
	if opts.ActiveDirectory && wantSyntax == SyntaxInteger {
		wantSyntax = adLargeIntegerSyntax
	}
	f.Problems = differences([]field{
		{"OID", a.OID, want.OID(), equal},
		{"SYNTAX", a.Syntax, wantSyntax, equal},
		{"SINGLE-VALUE", fmt.Sprint(a.SingleValue), fmt.Sprint(want.SingleValue), equal},
	})
	if !opts.ActiveDirectory {
		f.Problems = append(f.Problems, differences([]field{
			{"EQUALITY", a.Equality, want.Equality, sameRule},
			{"ORDERING", a.Ordering, want.Ordering, sameRule},
			{"SUBSTR", a.Substr, want.Substr, sameRule},
		})...)
	}
	return verdict(f)
}

func checkClass(want ObjectClass, got Installed, opts CheckOptions) Finding {
	f := Finding{Kind: "objectclass", Name: want.Name}
	i := slices.IndexFunc(got.ObjectClasses, func(o InstalledObjectClass) bool { return hasName(o.Names, want.Name) })
	if i < 0 {
		return missing(f, want.OID(), got)
	}
	o := got.ObjectClasses[i]
	must, may := want.Must, want.May
	if opts.ActiveDirectory {
		must, may = append([]string{"cn"}, must...), ADMayContain(want)
	}
	f.Problems = differences([]field{
		{"OID", o.OID, want.OID(), equal},
		{"kind", o.Kind, want.Kind, strings.EqualFold},
	})
	allowed := attributeKeys(append(slices.Clone(o.Must), o.May...), got)
	for _, name := range append(slices.Clone(must), may...) {
		if !allowed[keyOf(name, got)] {
			f.Problems = append(f.Problems, "does not allow "+name)
		}
	}
	wantRequired := attributeKeys(must, got)
	for _, name := range o.Must {
		if !wantRequired[keyOf(name, got)] {
			f.Problems = append(f.Problems, "requires "+name+", which dcrgate does not always write")
		}
	}
	return verdict(f)
}

// missing reports an element the server lacks, saying when its OID is
// taken by an element of another name (a clash, not just an absence).
func missing(f Finding, oid string, got Installed) Finding {
	f.Status = StatusMissing
	f.Problems = []string{"not installed"}
	for _, a := range got.AttributeTypes {
		if a.OID == oid {
			f.Status, f.Problems = StatusMismatch, []string{fmt.Sprintf("OID %s is installed as %s", oid, strings.Join(a.Names, ", "))}
		}
	}
	for _, o := range got.ObjectClasses {
		if o.OID == oid {
			f.Status, f.Problems = StatusMismatch, []string{fmt.Sprintf("OID %s is installed as %s", oid, strings.Join(o.Names, ", "))}
		}
	}
	return f
}

func verdict(f Finding) Finding {
	f.Status = StatusOK
	if len(f.Problems) > 0 {
		f.Status = StatusMismatch
	}
	return f
}

// field is one compared property: installed value, wanted value, equality.
type field struct {
	name      string
	got, want string
	same      func(a, b string) bool
}

func differences(fields []field) []string {
	var problems []string
	for _, f := range fields {
		if !f.same(f.got, f.want) {
			problems = append(problems, fmt.Sprintf("%s is %s, want %s", f.name, orNone(f.got), orNone(f.want)))
		}
	}
	return problems
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// equal compares OIDs and flags exactly.
func equal(a, b string) bool { return a == b }

// sameRule compares matching rules by name (case-insensitively, RFC 4512
// §2.5) or OID.
func sameRule(got, want string) bool {
	norm := func(s string) string {
		s = strings.ToLower(s)
		if oid, ok := ruleOIDs[s]; ok {
			return oid
		}
		return s
	}
	return norm(got) == norm(want)
}

// hasName reports whether names contains name; descriptors are
// case-insensitive (RFC 4512 §2.5).
func hasName(names []string, name string) bool {
	return slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, name) })
}

// keyOf identifies an attribute named by name or OID: its OID when the
// server defines it, else its lower-cased spelling.
func keyOf(name string, got Installed) string {
	for _, a := range got.AttributeTypes {
		if a.OID == name || hasName(a.Names, name) {
			return a.OID
		}
	}
	return strings.ToLower(name)
}

func attributeKeys(names []string, got Installed) map[string]bool {
	keys := map[string]bool{}
	for _, n := range names {
		keys[keyOf(n, got)] = true
	}
	return keys
}
