package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// plainMetadata has Metadata's fields and json tags but not its methods, so
// encoding/json handles the known members without recursing into ours.
type plainMetadata Metadata

// MarshalJSON writes the canonical JSON stored in the directory and echoed
// in responses: the known members in struct order (empty ones omitted), then
// the language-tagged members sorted by name (RFC 7591 §2.2), then the
// extension members sorted by name. Output is compact and deterministic, so
// equal metadata always stores as equal bytes.
func (m Metadata) MarshalJSON() ([]byte, error) {
	if err := checkExtraNames(m); err != nil {
		return nil, err
	}
	buf, err := encodeJSON(plainMetadata(m))
	if err != nil {
		return nil, err
	}
	buf = bytes.TrimSuffix(buf, []byte("}"))
	for _, name := range slices.Sorted(maps.Keys(m.Localized)) {
		if buf, err = appendMember(buf, name, m.Localized[name]); err != nil {
			return nil, err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(m.Extensions)) {
		if buf, err = appendMember(buf, name, m.Extensions[name]); err != nil {
			return nil, err
		}
	}
	return append(buf, '}'), nil
}

// checkExtraNames refuses names that would collide with a known member or
// cross from Localized to Extensions on the way back, which would make the
// stored JSON ambiguous.
func checkExtraNames(m Metadata) error {
	for name := range m.Localized {
		if !strings.Contains(name, "#") {
			return fmt.Errorf("client: localized member %q has no language tag", name)
		}
	}
	for name := range m.Extensions {
		if strings.Contains(name, "#") || isStandardMember(name) {
			return fmt.Errorf("client: extension member %q clashes with a standard or localized member", name)
		}
	}
	return nil
}

// appendMember appends `,"name":value` (without the comma after "{").
func appendMember(buf []byte, name string, value any) ([]byte, error) {
	encodedName, err := encodeJSON(name)
	if err != nil {
		return nil, err
	}
	encodedValue, err := encodeJSON(value)
	if err != nil {
		return nil, fmt.Errorf("client: member %q: %w", name, err)
	}
	if len(buf) > 1 {
		buf = append(buf, ',')
	}
	buf = append(buf, encodedName...)
	buf = append(buf, ':')
	return append(buf, encodedValue...), nil
}

// encodeJSON encodes v compactly with encoding/json's default escaping
// (<, >, & as \u003c...), the same escaping json.Marshal applies to the output
// of a MarshalJSON method, so the canonical bytes do not depend on whether a
// caller calls MarshalJSON or json.Marshal.
func encodeJSON(v any) ([]byte, error) { return json.Marshal(v) }

// errStoredMetadata wraps every problem UnmarshalJSON finds.
var errStoredMetadata = errors.New("client: bad stored metadata")

// UnmarshalJSON reads JSON written by MarshalJSON: trusted, stored data. It
// needs no Options: members with '#' are language-tagged, other unknown
// members are extensions. It checks types, not rules; Decode and Normalize
// are for untrusted input.
func (m *Metadata) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		return nil // encoding/json convention: null leaves the value alone
	}
	// readObject, as for request bodies: one validating scan, members as
	// sub-slices, and a member named twice is an error, since the AS
	// reading the same entry might take the other one.
	members, err := readObject(data)
	if err != nil {
		return fmt.Errorf("%w: %w", errStoredMetadata, err)
	}
	var out Metadata
	for _, mb := range members {
		if isNull(mb.value) {
			continue
		}
		if err := out.setStored(mb.name, mb.value); err != nil {
			return fmt.Errorf("%w: %s: %w", errStoredMetadata, mb.name, err)
		}
	}
	*m = out
	return nil
}

// setStored sets one stored member.
func (m *Metadata) setStored(name string, raw json.RawMessage) error {
	if f, ok := fieldsByName[name]; ok {
		return f.decode(raw, m)
	}
	if strings.Contains(name, "#") {
		v, err := kindString.parse(raw)
		if err != nil {
			return err
		}
		setKey(&m.Localized, name, v.(string))
		return nil
	}
	value, err := compactIf(raw, true)
	setKey(&m.Extensions, name, value)
	return err
}

// setKey sets key in the map *dst, creating the map first if needed.
func setKey[V any](dst *map[string]V, key string, value V) {
	if *dst == nil {
		*dst = make(map[string]V)
	}
	(*dst)[key] = value
}
