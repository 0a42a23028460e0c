package ldapstore

import (
	"errors"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

func TestAssertionControlEncoding(t *testing.T) {
	c, err := newAssertionControl("(dcrRevision=7)")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ber.DecodePacketErr(c.Encode().Bytes())
	if err != nil || len(p.Children) != 3 {
		t.Fatalf("control %v, %v", p, err)
	}
	if p.Children[0].Value != OIDAssertion || p.Children[1].Value != true {
		t.Fatalf("type %v criticality %v", p.Children[0].Value, p.Children[1].Value)
	}
	filter, err := ber.DecodePacketErr(p.Children[2].Data.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ldap.DecompileFilter(filter); err != nil || got != "(dcrRevision=7)" {
		t.Fatalf("filter in control = %q, %v", got, err)
	}
	if _, err := newAssertionControl("(unbalanced"); err == nil {
		t.Fatal("fail/bad filter compiled")
	}
}

// TestEqualityAssertionMatchesCompiledFilter pins the hand-built filter to
// what go-ldap compiles from the escaped filter text, for values that need
// escaping too.
func TestEqualityAssertionMatchesCompiledFilter(t *testing.T) {
	for _, v := range []string{"plainhash", "a*b(c)\\d", "\x00nul", "ünï"} {
		want, err := ldap.CompileFilter("(dcrRegistrationTokenHash=" + ldap.EscapeFilter(v) + ")")
		if err != nil {
			t.Fatal(err)
		}
		c := newEqualityAssertion("dcrRegistrationTokenHash", v)
		if got := c.filter.Bytes(); string(got) != string(want.Bytes()) {
			t.Errorf("%q: filter % x, want % x", v, got, want.Bytes())
		}
		if c.Encode() == nil || c.String() != "Assertion (dcrRegistrationTokenHash="+ldap.EscapeFilter(v)+")" {
			t.Errorf("%q: control %s", v, c)
		}
	}
}

func TestAndAssertionMatchesCompiledFilter(t *testing.T) {
	c := newAssertion(equality{"dcrRevision", "7"}, equality{"dcrRegistrationTokenHash", "a*b"})
	text := "(&(dcrRevision=7)(dcrRegistrationTokenHash=a\\2ab))"
	want, err := ldap.CompileFilter(text)
	if err != nil {
		t.Fatal(err)
	}
	if string(c.filter.Bytes()) != string(want.Bytes()) || c.String() != "Assertion "+text {
		t.Fatalf("filter % x (%s), want % x (%s)", c.filter.Bytes(), c, want.Bytes(), text)
	}
}

func TestPostReadControlEncoding(t *testing.T) {
	c := &postReadControl{attributes: []string{"a", "b"}}
	p, err := ber.DecodePacketErr(c.Encode().Bytes())
	if err != nil || len(p.Children) != 2 || p.Children[0].Value != OIDPostRead {
		t.Fatalf("control %v, %v (criticality must be omitted)", p, err)
	}
	sel, err := ber.DecodePacketErr(p.Children[1].Data.Bytes())
	if err != nil || len(sel.Children) != 2 || sel.Children[1].Value != "b" {
		t.Fatalf("attribute selection %v, %v", sel, err)
	}
}

// entryPacket builds a SearchResultEntry as a server would send it.
func entryPacket(tag ber.Tag, dn string, attrs map[string][]string) []byte {
	e := ber.Encode(ber.ClassApplication, ber.TypeConstructed, tag, nil, "entry")
	e.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, dn, "dn"))
	list := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attributes")
	for name, values := range attrs {
		a := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attribute")
		a.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, name, "type"))
		set := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "vals")
		for _, v := range values {
			set.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, v, "val"))
		}
		a.AppendChild(set)
		list.AppendChild(a)
	}
	e.AppendChild(list)
	return e.Bytes()
}

func TestPostReadEntry(t *testing.T) {
	good := entryPacket(ldap.ApplicationSearchResultEntry, "dcrClientId=x,ou=c", map[string][]string{"dcrRevision": {"2"}})
	tests := []struct {
		name     string
		controls []ldap.Control
		wantErr  bool
		wantDN   string
	}{
		{"ok/entry", []ldap.Control{&ldap.ControlString{ControlType: OIDPostRead, ControlValue: string(good)}}, false, "dcrClientId=x,ou=c"},
		{"ok/no post-read control", []ldap.Control{ldap.NewControlManageDsaIT(false)}, false, ""},
		{"fail/garbage", []ldap.Control{&ldap.ControlString{ControlType: OIDPostRead, ControlValue: "\x30\xff"}}, true, ""},
		{"fail/empty value", []ldap.Control{&ldap.ControlString{ControlType: OIDPostRead}}, true, ""},
		{"fail/not an entry", []ldap.Control{&ldap.ControlString{ControlType: OIDPostRead,
			ControlValue: string(entryPacket(ldap.ApplicationSearchResultDone, "x", nil))}}, true, ""},
		{"fail/attribute without values", []ldap.Control{&ldap.ControlString{ControlType: OIDPostRead,
			ControlValue: string(truncatedAttribute())}}, true, ""},
		{"fail/unexpected control type", []ldap.Control{&oddControl{}}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := postReadEntry(tt.controls)
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, errMalformedControl)) {
				t.Fatalf("err = %v", err)
			}
			if tt.wantDN != "" && (e == nil || e.DN != tt.wantDN || e.GetAttributeValue("dcrRevision") != "2") {
				t.Fatalf("entry %+v", e)
			}
		})
	}
}

// truncatedAttribute is an entry whose attribute lacks its value set.
func truncatedAttribute() []byte {
	e := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchResultEntry, nil, "entry")
	e.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "x", "dn"))
	list := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attributes")
	a := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attribute")
	a.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "cn", "type"))
	list.AppendChild(a)
	e.AppendChild(list)
	return e.Bytes()
}

type oddControl struct{}

func (*oddControl) GetControlType() string { return OIDPostRead }
func (*oddControl) Encode() *ber.Packet    { return nil }
func (*oddControl) String() string         { return "odd" }
