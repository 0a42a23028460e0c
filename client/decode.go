package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
// on which one wins, and a policy check must see what the store keeps. Names
// are compared unescaped, so "a" and "\u0061" are the same member.
//
// Every request body passes through here, and json.Decoder's token stream
// made it a hot spot, so it is written for speed: json.Valid (no allocations)
// first rejects anything that is not well-formed JSON, and because the input
// is then known to be valid, a small scanner that only finds where names and
// values start and end is enough. Values are sub-slices of data, not copies.
// Any body json.Valid refuses is errNotObject: even one with a duplicate
// member before its syntax error, and one whose member value is nested
// exactly 10000 deep (json.Valid counts the outer object against
// encoding/json's nesting limit).
func readObject(data []byte) ([]member, error) {
	i := skipSpace(data, 0)
	if i == len(data) || data[i] != '{' || !json.Valid(data) {
		return nil, errNotObject
	}
	// json.Valid passed and the value starts with '{': from here on data is
	// one object, optionally followed by whitespace.
	i = skipSpace(data, i+1)
	if data[i] == '}' {
		return nil, nil
	}
	members := make([]member, 0, 16)
	var seen map[string]struct{} // built once there are too many members to scan
	for {
		// data[i] is the opening quote of a name.
		end, escaped := skipString(data, i)
		name, ok := memberName(data[i+1:end-1], escaped)
		if !ok {
			return nil, errNotObject // cannot happen: data is valid JSON
		}
		i = skipSpace(data, end) // at ':'
		i = skipSpace(data, i+1)
		end = skipValue(data, i)
		value := data[i:end:end]
		if isDuplicate(members, &seen, name) {
			return nil, &duplicateMemberError{name: name}
		}
		members = append(members, member{name: name, value: value})
		i = skipSpace(data, end) // at ',' or '}'
		if data[i] == '}' {
			return members, nil
		}
		i = skipSpace(data, i+1)
	}
}

// linearDuplicateLimit is the member count up to which isDuplicate compares
// names one by one; past it a map is faster.
const linearDuplicateLimit = 32

// isDuplicate reports whether name is already among members. *seen is nil
// until members reaches linearDuplicateLimit.
func isDuplicate(members []member, seen *map[string]struct{}, name string) bool {
	if len(members) < linearDuplicateLimit {
		for i := range members {
			if members[i].name == name {
				return true
			}
		}
		return false
	}
	if *seen == nil {
		*seen = make(map[string]struct{}, 2*len(members))
		for _, m := range members {
			(*seen)[m.name] = struct{}{}
		}
	}
	if _, dup := (*seen)[name]; dup {
		return true
	}
	(*seen)[name] = struct{}{}
	return false
}

// knownMemberNames holds the names Decode gives a meaning, so that
// memberName can return them without allocating.
var knownMemberNames = func() map[string]string {
	names := make(map[string]string, len(fieldsByName)+len(requestStrings)+len(serverManaged))
	for name := range fieldsByName {
		names[name] = name
	}
	for name := range requestStrings {
		names[name] = name
	}
	for _, name := range serverManaged {
		names[name] = name
	}
	return names
}()

// memberName returns the unescaped name whose quoted contents are raw;
// escaped says raw holds a backslash. Like encoding/json, it turns invalid
// UTF-8 into U+FFFD. ok is false only if raw is not a valid JSON string.
func memberName(raw []byte, escaped bool) (string, bool) {
	if !escaped && utf8.Valid(raw) {
		if known, ok := knownMemberNames[string(raw)]; ok {
			return known, true
		}
		return string(raw), true
	}
	return unquoteName(raw)
}

// unquoteName is memberName's rare slow path: encoding/json unescapes.
func unquoteName(raw []byte) (string, bool) {
	var name string
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(append(append(quoted, '"'), raw...), '"')
	return name, json.Unmarshal(quoted, &name) == nil
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace, or len(data).
func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just past the string that starts with the
// quote at data[i], and whether the string holds a backslash. The string must
// be valid JSON.
func skipString(data []byte, i int) (end int, escaped bool) {
	i++
	for {
		q := bytes.IndexByte(data[i:], '"') + i
		b := bytes.IndexByte(data[i:q], '\\')
		if b < 0 {
			return q + 1, escaped
		}
		// Skip the backslash and the byte it escapes, which may be a quote;
		// the hex digits of \uXXXX need no care.
		escaped = true
		i += b + 2
	}
}

// skipValue returns the index just past the valid JSON value that starts at
// data[i].
func skipValue(data []byte, i int) int {
	switch data[i] {
	case '"':
		end, _ := skipString(data, i)
		return end
	case '{', '[':
		depth := 0
		for {
			switch data[i] {
			case '"':
				i, _ = skipString(data, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
	default: // number, true, false or null
		for i < len(data) {
			switch data[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
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
