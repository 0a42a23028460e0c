package client

import (
	"bytes"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// memberField is a Metadata field that holds one JSON member.
type memberField struct {
	index int
	name  string
}

// memberFields are the Metadata fields with a JSON member, in declaration
// order.
var memberFields = func() []memberField {
	var out []memberField
	t := reflect.TypeFor[Metadata]()
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			out = append(out, memberField{i, name})
		}
	}
	return out
}()

// ChangedMembers names the metadata members whose values differ between a
// and b — language-tagged variants and extension members included — for
// the audit trail of an update: which members changed, never to what.
func ChangedMembers(a, b Metadata) []string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var changed []string
	for _, f := range memberFields {
		if !reflect.DeepEqual(va.Field(f.index).Interface(), vb.Field(f.index).Interface()) {
			changed = append(changed, f.name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(union(a.Localized, b.Localized))) {
		if a.Localized[name] != b.Localized[name] {
			changed = append(changed, name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(union(a.Extensions, b.Extensions))) {
		if !bytes.Equal(a.Extensions[name], b.Extensions[name]) {
			changed = append(changed, name)
		}
	}
	return changed
}

// union is the set of keys of a and b.
func union[V any](a, b map[string]V) map[string]bool {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	return keys
}
