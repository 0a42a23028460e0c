package ldapstore

import (
	"errors"
	"fmt"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// Control OIDs this store uses when the server lists them in the root DSE's
// supportedControl (RFC 4512 §5.1). go-ldap has no types for them.
const (
	// OIDAssertion is the Assertion control (RFC 4528 §3): the operation runs
	// only if the target entry matches a filter, atomically with it.
	OIDAssertion = "1.3.6.1.1.12"
	// OIDPostRead is the Post-Read control (RFC 4527 §3.2): the response
	// carries the entry as it is after the update.
	OIDPostRead = "1.3.6.1.1.13.2"
	// OIDModifyIncrement is the Modify-Increment extension (RFC 4525), listed
	// in the root DSE's supportedFeatures: a Modify adds to an integer.
	OIDModifyIncrement = "1.3.6.1.1.14"
)

// errMalformedControl is a response control that cannot be decoded.
var errMalformedControl = errors.New("ldapstore: malformed response control")

// assertionControl asks the server to apply an update only if the entry
// matches Filter; if not, the whole operation fails with assertionFailed
// (122) and nothing changes. It is always critical: a server that ignored
// it would apply an unguarded write.
type assertionControl struct {
	filter *ber.Packet
	// text is the filter as written, or terms when built from them: the
	// string form is only for logs, so it is only written out when asked.
	text  string
	terms []equality
}

var _ ldap.Control = (*assertionControl)(nil)

// newAssertionControl compiles filter, whose values the caller has escaped.
func newAssertionControl(filter string) (*assertionControl, error) {
	p, err := ldap.CompileFilter(filter)
	if err != nil {
		return nil, fmt.Errorf("ldapstore: assertion filter %q: %w", filter, err)
	}
	return &assertionControl{filter: p, text: filter}, nil
}

// newEqualityAssertion asserts (attr=value), the filter built directly
// (RFC 4511 §4.5.1.7.1) rather than written out, escaped and parsed again:
// the token guard of every PUT and DELETE.
func newEqualityAssertion(attr, value string) *assertionControl {
	return newAssertion(equality{attr, value})
}

// equality is one (attribute=value) term of an assertion.
type equality struct{ attr, value string }

func (e equality) packet() *ber.Packet {
	p := ber.Encode(ber.ClassContext, ber.TypeConstructed, ldap.FilterEqualityMatch, nil, "Equality Match")
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, e.attr, "Attribute"))
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, e.value, "Condition"))
	return p
}

func (e equality) String() string { return "(" + e.attr + "=" + ldap.EscapeFilter(e.value) + ")" }

// newAssertion asserts every term: the term alone, or their AND.
func newAssertion(terms ...equality) *assertionControl {
	if len(terms) == 1 {
		return &assertionControl{filter: terms[0].packet(), terms: terms}
	}
	and := ber.Encode(ber.ClassContext, ber.TypeConstructed, ldap.FilterAnd, nil, "And")
	for _, t := range terms {
		and.AppendChild(t.packet())
	}
	return &assertionControl{filter: and, terms: terms}
}

func (c *assertionControl) GetControlType() string { return OIDAssertion }

// Encode writes Control ::= SEQUENCE { controlType, criticality TRUE,
// controlValue OCTET STRING (the BER of the Filter) } (RFC 4511 §4.1.11).
func (c *assertionControl) Encode() *ber.Packet {
	return encodeControl(OIDAssertion, true, c.filter.Bytes())
}

func (c *assertionControl) String() string {
	switch {
	case c.terms == nil:
		return "Assertion " + c.text
	case len(c.terms) == 1:
		return "Assertion " + c.terms[0].String()
	}
	text := "Assertion (&"
	for _, t := range c.terms {
		text += t.String()
	}
	return text + ")"
}

// postReadControl asks for Attributes of the entry as the update left it.
// It is not critical: a server that cannot return the entry still applies
// the update, and the store decodes what it wrote instead.
type postReadControl struct{ attributes []string }

var _ ldap.Control = (*postReadControl)(nil)

func (c *postReadControl) GetControlType() string { return OIDPostRead }

// Encode writes the control value AttributeSelection ::= SEQUENCE OF
// selector LDAPString (RFC 4511 §4.5.1.8).
func (c *postReadControl) Encode() *ber.Packet {
	sel := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "AttributeSelection")
	for _, a := range c.attributes {
		sel.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a, "Attribute"))
	}
	return encodeControl(OIDPostRead, false, sel.Bytes())
}

func (c *postReadControl) String() string { return fmt.Sprintf("Post-Read %v", c.attributes) }

// encodeControl builds a control with a raw value; criticality FALSE is the
// default and therefore omitted (DER).
func encodeControl(oid string, critical bool, value []byte) *ber.Packet {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Control")
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, oid, "Control Type"))
	if critical {
		p.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, true, "Criticality"))
	}
	v := ber.Encode(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, nil, "Control Value")
	v.Value = string(value)
	v.Data.Write(value)
	p.AppendChild(v)
	return p
}

// postReadEntry finds the Post-Read response control among controls and
// decodes its SearchResultEntry (RFC 4527 §3.2); nil, nil when the server
// sent none.
func postReadEntry(controls []ldap.Control) (*ldap.Entry, error) {
	for _, c := range controls {
		if c.GetControlType() != OIDPostRead {
			continue
		}
		s, ok := c.(*ldap.ControlString)
		if !ok {
			return nil, fmt.Errorf("%w: post-read control of type %T", errMalformedControl, c)
		}
		return decodeSearchResultEntry([]byte(s.ControlValue))
	}
	return nil, nil
}

// decodeSearchResultEntry reads SearchResultEntry ::= [APPLICATION 4]
// SEQUENCE { objectName LDAPDN, attributes PartialAttributeList } (RFC 4511
// §4.5.2), checking every shape so that a hostile server gets an error,
// never a panic.
func decodeSearchResultEntry(data []byte) (*ldap.Entry, error) {
	p, err := ber.DecodePacketErr(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errMalformedControl, err)
	}
	if p.ClassType != ber.ClassApplication || p.Tag != ldap.ApplicationSearchResultEntry || len(p.Children) != 2 {
		return nil, fmt.Errorf("%w: not a SearchResultEntry", errMalformedControl)
	}
	dn, ok := p.Children[0].Value.(string)
	if !ok {
		return nil, fmt.Errorf("%w: entry DN", errMalformedControl)
	}
	e := &ldap.Entry{DN: dn}
	for _, attr := range p.Children[1].Children {
		a, err := decodePartialAttribute(attr)
		if err != nil {
			return nil, err
		}
		e.Attributes = append(e.Attributes, a)
	}
	return e, nil
}

// decodePartialAttribute reads PartialAttribute ::= SEQUENCE { type
// AttributeDescription, vals SET OF value AttributeValue }.
func decodePartialAttribute(p *ber.Packet) (*ldap.EntryAttribute, error) {
	if len(p.Children) != 2 {
		return nil, fmt.Errorf("%w: attribute", errMalformedControl)
	}
	name, ok := p.Children[0].Value.(string)
	if !ok {
		return nil, fmt.Errorf("%w: attribute type", errMalformedControl)
	}
	a := &ldap.EntryAttribute{Name: name}
	for _, v := range p.Children[1].Children {
		a.Values = append(a.Values, string(v.Data.Bytes()))
		a.ByteValues = append(a.ByteValues, v.Data.Bytes())
	}
	return a, nil
}
