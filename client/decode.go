package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dcrgate/dcrgate/oauth"
)

// Request is a decoded registration (RFC 7591 §3.1) or update (RFC 7592
// §2.2) body.
type Request struct {
	Metadata Metadata
	// ClientID is the "client_id" member, if present; RFC 7592 §2.2 requires
	// it in PUT bodies.
	ClientID string
	// ClientSecret is the "client_secret" member, if present.
	ClientSecret string
	// SoftwareStatement is "software_statement" (RFC 7591 §2.3), kept raw
	// for the caller to verify.
	SoftwareStatement string
	// ServerManaged names the server-managed members that were present
	// (non-null), in body order. RFC 7592 §2.2 forbids them in a PUT.
	ServerManaged []string
}

// requestStrings are the members of a request that are not metadata but
// travel in the same object.
var requestStrings = map[string]func(*Request) *string{
	"client_id":          func(r *Request) *string { return &r.ClientID },
	"client_secret":      func(r *Request) *string { return &r.ClientSecret },
	"software_statement": func(r *Request) *string { return &r.SoftwareStatement },
}

// serverManaged are the members only the server sets (RFC 7591 §3.2.1,
// RFC 7592 §3).
var serverManaged = []string{
	"registration_access_token",
	"registration_client_uri",
	"client_secret_expires_at",
	"client_id_issued_at",
}

// isStandardMember reports whether name is a member RFC 7591/7592 or OpenID
// Connect Registration give a meaning, so an extension may not take it.
func isStandardMember(name string) bool {
	_, known := fieldsByName[name]
	_, request := requestStrings[name]
	return known || request || slices.Contains(serverManaged, name)
}

// errNotObject means a body is not exactly one JSON object.
var errNotObject = errors.New("not a JSON object")

// duplicateMemberError names a member that occurs twice in one object.
type duplicateMemberError struct{ name string }

func (e *duplicateMemberError) Error() string { return fmt.Sprintf("duplicate member %q", e.name) }

// member is one name/value pair of a JSON object.
type member struct {
	name  string
	value json.RawMessage
}

// readObject splits data, which must be exactly one JSON object, into its
// members in document order. Duplicate names are an error: parsers disagree
// on which one wins, and a policy check must see what the store keeps.
func readObject(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errNotObject
	}
	var members []member
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		name, isName := tok.(string)
		if err != nil || !isName {
			return nil, errNotObject
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, errNotObject
		}
		if seen[name] {
			return nil, &duplicateMemberError{name: name}
		}
		seen[name] = true
		members = append(members, member{name: name, value: value})
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, errNotObject
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errNotObject
	}
	return members, nil
}

// Decode parses an untrusted registration or update body strictly by type.
// Unknown members are ignored (RFC 7591 §2), null members count as absent,
// and an empty string for a single-valued member counts as absent too (the
// directory cannot store it). Required extensions are enforced here, since
// only the request shows whether a member was sent; opts must have passed
// Options.Validate. Errors are *oauth.Error invalid_client_metadata
// (invalid_redirect_uri for the values of redirect_uris) whose description
// names the member.
func Decode(body []byte, opts Options) (Request, error) {
	opts = opts.withDefaults()
	if !utf8.Valid(body) {
		return Request{}, invalidMetadata("request body must be valid UTF-8")
	}
	members, err := readObject(body)
	if dup := (*duplicateMemberError)(nil); errors.As(err, &dup) {
		return Request{}, invalidMetadata("request body has the member %s more than once", quoteName(dup.name))
	}
	if err != nil {
		return Request{}, invalidMetadata("request body must be a JSON object")
	}
	d := decoder{opts: opts}
	for _, mem := range members {
		if isNull(mem.value) {
			continue
		}
		if err := d.member(mem.name, mem.value); err != nil {
			return Request{}, err
		}
	}
	if err := d.requireExtensions(); err != nil {
		return Request{}, err
	}
	return d.req, nil
}

// decoder accumulates one Request.
type decoder struct {
	opts Options
	req  Request
}

// member dispatches one non-null member to the rule for its name.
func (d *decoder) member(name string, raw json.RawMessage) error {
	if f, ok := fieldsByName[name]; ok {
		return d.field(f, raw)
	}
	if target, ok := requestStrings[name]; ok {
		return d.requestString(name, raw, target(&d.req))
	}
	if slices.Contains(serverManaged, name) {
		d.req.ServerManaged = append(d.req.ServerManaged, name)
		return nil
	}
	if ext, ok := d.opts.extension(name); ok {
		return d.extension(ext, raw)
	}
	if isLocalizedName(name) {
		return d.localized(name, raw)
	}
	return nil // RFC 7591 §2: unknown members are ignored.
}

func (d *decoder) field(f field, raw json.RawMessage) error {
	m := &d.req.Metadata
	if err := f.decode(raw, m); err != nil {
		return typeError(f.name, f.kind)
	}
	return checkFieldValue(f, m, d.opts)
}

func (d *decoder) requestString(name string, raw json.RawMessage, target *string) error {
	s, err := kindString.parse(raw)
	if err != nil {
		return typeError(name, kindString)
	}
	maxLength := d.opts.MaxValueLength
	if name == "software_statement" {
		maxLength = maxSoftwareStatementLength
	}
	*target = s.(string)
	return checkString(name, *target, maxLength)
}

// extension keeps a configured extension member after checking its type.
func (d *decoder) extension(ext Extension, raw json.RawMessage) error {
	value, err := parseExtension(ext, raw, d.opts)
	if err != nil {
		return err
	}
	setKey(&d.req.Metadata.Extensions, ext.Name, value)
	return nil
}

// parseExtension checks raw against ext's type and the value rules and
// returns it in canonical (compact) form.
func parseExtension(ext Extension, raw json.RawMessage, opts Options) (json.RawMessage, error) {
	k := extensionKinds[ext.Type]
	v, err := k.parse(raw)
	if err != nil {
		return nil, typeError(ext.Name, k)
	}
	if err := checkValue(ext.Name, v, valueLimits{maxLength: opts.MaxValueLength, maxItems: maxArrayLength}); err != nil {
		return nil, err
	}
	return compactIf(raw, true)
}

// localized keeps a language-tagged member (RFC 7591 §2.2).
func (d *decoder) localized(name string, raw json.RawMessage) error {
	m := &d.req.Metadata
	if len(m.Localized) >= maxLocalized {
		return errTooManyLocalized()
	}
	v, err := kindString.parse(raw)
	if err != nil {
		return typeError(quoteName(name), kindString)
	}
	if v == "" {
		return nil // like an empty single-valued member: absent
	}
	if err := checkLocalized(name, v.(string), d.opts.MaxValueLength); err != nil {
		return err
	}
	setKey(&m.Localized, name, v.(string))
	return nil
}

func (d *decoder) requireExtensions() error {
	for _, ext := range d.opts.Extensions {
		if _, ok := d.req.Metadata.Extensions[ext.Name]; ext.Required && !ok {
			return invalidMetadata("%s is required", ext.Name)
		}
	}
	return nil
}

// checkFieldValue applies the value rules to f's value in m.
func checkFieldValue(f field, m *Metadata, opts Options) error {
	limits := valueLimits{maxLength: opts.MaxValueLength, maxItems: opts.maxItems(f.name)}
	err := checkValue(f.name, f.value(m).Interface(), limits)
	if err != nil && f.name == "redirect_uris" {
		return asRedirectError(err)
	}
	return err
}

// quoteName quotes a member name taken from the request for an error
// description, cut short so that a hostile name cannot bloat the response.
func quoteName(name string) string {
	const maxShown = 64
	if len(name) > maxShown {
		name = strings.ToValidUTF8(name[:maxShown], "") + "..."
	}
	return strconv.Quote(name)
}

func typeError(name string, k kind) error {
	return invalidMetadata("%s must be %s", name, k.expected())
}

func invalidMetadata(format string, args ...any) error {
	return oauth.ErrInvalidClientMetadata.WithDescription(format, args...)
}

func invalidRedirectURI(format string, args ...any) error {
	return oauth.ErrInvalidRedirectURI.WithDescription(format, args...)
}

// asRedirectError re-codes a value error on redirect_uris as
// invalid_redirect_uri (RFC 7591 §3.2.2), keeping its description.
func asRedirectError(err error) error {
	var e *oauth.Error
	if errors.As(err, &e) {
		return invalidRedirectURI("%s", e.Description)
	}
	return err
}
