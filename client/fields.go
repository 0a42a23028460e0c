package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// kind is the JSON type a member must have.
type kind int

const (
	kindString kind = iota
	kindStrings
	kindBool
	kindInteger
	kindObject
	kindNumber
)

// expected names the kind for error descriptions ("x must be <expected>").
func (k kind) expected() string {
	switch k {
	case kindString:
		return "a string"
	case kindStrings:
		return "an array of strings"
	case kindBool:
		return "a boolean"
	case kindInteger:
		return "an integer"
	case kindObject:
		return "a JSON object"
	default:
		return "a number"
	}
}

// errWrongType means a JSON value does not have the kind its member needs.
var errWrongType = errors.New("wrong JSON type")

// parse decodes raw, a valid JSON value, as kind k. The result has the Go
// type of the matching Metadata field: string, []string, bool, *int64 or
// json.RawMessage (objects and numbers, compacted so that the stored form is
// canonical). null is a wrong type here: callers that read null as "absent"
// skip it before parsing.
func (k kind) parse(raw json.RawMessage) (any, error) {
	if len(raw) == 0 || isNull(raw) {
		return nil, errWrongType
	}
	switch k {
	case kindString:
		return unmarshalAs[string](raw)
	case kindStrings:
		return parseStrings(raw)
	case kindBool:
		return unmarshalAs[bool](raw)
	case kindInteger:
		n, err := unmarshalAs[int64](raw)
		return &n, err
	case kindObject:
		return compactIf(raw, raw[0] == '{')
	default:
		return compactIf(raw, isFiniteNumber(raw))
	}
}

func unmarshalAs[T any](raw json.RawMessage) (T, error) {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, errWrongType
	}
	return v, nil
}

// parseStrings decodes an array of strings; a null element is a wrong type,
// not an empty string.
func parseStrings(raw json.RawMessage) ([]string, error) {
	ptrs, err := unmarshalAs[[]*string](raw)
	if err != nil {
		return nil, err
	}
	values := make([]string, len(ptrs))
	for i, p := range ptrs {
		if p == nil {
			return nil, errWrongType
		}
		values[i] = *p
	}
	return values, nil
}

// compactIf returns raw in the canonical form MarshalJSON writes: compact,
// with <, >, &, U+2028 and U+2029 escaped as encoding/json escapes them. A
// value kept in this form round-trips through the store byte for byte.
func compactIf(raw json.RawMessage, ok bool) (json.RawMessage, error) {
	if !ok {
		return nil, errWrongType
	}
	var compact, escaped bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return nil, errWrongType
	}
	json.HTMLEscape(&escaped, compact.Bytes())
	return json.RawMessage(escaped.Bytes()), nil
}

// isFiniteNumber reports whether raw is a JSON number within float64 range.
func isFiniteNumber(raw json.RawMessage) bool {
	if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return false
	}
	_, err := strconv.ParseFloat(string(raw), 64)
	return err == nil
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

// field describes one known member of Metadata: its JSON name, its position
// in the struct and its kind. The table is built once from the json tags, so
// a field added to Metadata is decoded, checked and stored without more code.
type field struct {
	name  string
	index int
	kind  kind
}

var (
	metadataFields = describeFields(reflect.TypeFor[Metadata]())
	fieldsByName   = indexFields(metadataFields)
)

// goKinds maps the Go types used in Metadata to JSON kinds.
var goKinds = map[reflect.Type]kind{
	reflect.TypeFor[string]():          kindString,
	reflect.TypeFor[[]string]():        kindStrings,
	reflect.TypeFor[bool]():            kindBool,
	reflect.TypeFor[*int64]():          kindInteger,
	reflect.TypeFor[json.RawMessage](): kindObject,
}

func describeFields(t reflect.Type) []field {
	var fields []field
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		k, ok := goKinds[sf.Type]
		if !ok {
			// A programming error caught by every test run, never by input.
			panic(fmt.Sprintf("client: Metadata.%s has type %s, which has no JSON kind", sf.Name, sf.Type))
		}
		fields = append(fields, field{name: name, index: i, kind: k})
	}
	return fields
}

func indexFields(fields []field) map[string]field {
	byName := make(map[string]field, len(fields))
	for _, f := range fields {
		byName[f.name] = f
	}
	return byName
}

// value returns f's value in m.
func (f field) value(m *Metadata) reflect.Value {
	return reflect.ValueOf(m).Elem().Field(f.index)
}

// decode sets f in m from raw, checking the JSON type only.
func (f field) decode(raw json.RawMessage, m *Metadata) error {
	v, err := f.kind.parse(raw)
	if err != nil {
		return err
	}
	f.value(m).Set(reflect.ValueOf(v))
	return nil
}

// stringValues returns the string or strings held by member name, so that
// rules written once apply to single and multi-valued members alike.
func (m *Metadata) stringValues(name string) []string {
	switch v := fieldsByName[name].value(m).Interface().(type) {
	case string:
		if v == "" {
			return nil
		}
		return []string{v}
	case []string:
		return v
	}
	return nil
}

// valueLimits are the bounds checkValue applies.
type valueLimits struct {
	maxLength int
	maxItems  int
}

// checkValue applies the rules every string value obeys to v, the parsed
// value of member name. Directories fold leading and trailing whitespace and
// refuse empty values, and control characters have no place in metadata, so
// such values are refused here rather than silently changed later.
func checkValue(name string, v any, limits valueLimits) error {
	switch v := v.(type) {
	case string:
		return checkString(name, v, limits.maxLength)
	case []string:
		return checkStrings(name, v, limits)
	}
	return nil
}

func checkStrings(name string, values []string, limits valueLimits) error {
	if len(values) > limits.maxItems {
		return invalidMetadata("%s must have at most %d values", name, limits.maxItems)
	}
	for i, s := range values {
		problem := "must not be empty"
		if s != "" {
			problem = stringProblem(s, limits.maxLength)
		}
		if problem != "" {
			return invalidMetadata("%s[%d] %s", name, i, problem)
		}
	}
	return nil
}

func checkString(name, s string, maxLength int) error {
	if problem := stringProblem(s, maxLength); problem != "" {
		return invalidMetadata("%s %s", name, problem)
	}
	return nil
}

// stringProblem describes what is wrong with s, or returns "".
func stringProblem(s string, maxLength int) string {
	switch {
	case len(s) > maxLength:
		return fmt.Sprintf("must be at most %d bytes long", maxLength)
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case strings.TrimSpace(s) != s:
		return "must not have leading or trailing whitespace"
	case strings.IndexFunc(s, isForbiddenRune) >= 0:
		return "must not contain control characters"
	}
	return ""
}

// isForbiddenRune reports control characters, line and paragraph separators
// and the bidirectional overrides and isolates, which let a client name
// display differently from what it is (a consent-screen spoof).
func isForbiddenRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r < 0x20 || r == 0x7f
	}
	return unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp) ||
		(r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

// isForbiddenNameRune reports runes not allowed in extension names.
func isForbiddenNameRune(r rune) bool {
	return isForbiddenRune(r) || unicode.IsSpace(r)
}
