package client

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestChangedMembers(t *testing.T) {
	base := Metadata{RedirectURIs: []string{"https://a.example/cb"}, ClientName: "A", Scope: "openid",
		Localized: map[string]string{"client_name#fr": "A fr"}, Extensions: map[string]json.RawMessage{"tenant": json.RawMessage(`"acme"`)}}
	for _, tt := range []struct {
		name string
		edit func(m *Metadata)
		want []string
	}{
		{"ok/nothing", func(*Metadata) {}, nil},
		{"ok/lists and strings", func(m *Metadata) { m.RedirectURIs = []string{"https://b.example/cb"}; m.Scope = "" },
			[]string{"redirect_uris", "scope"}},
		{"ok/a language tag added and one removed", func(m *Metadata) {
			m.Localized = map[string]string{"client_name#de": "A de"}
		}, []string{"client_name#de", "client_name#fr"}},
		{"ok/an extension changed", func(m *Metadata) {
			m.Extensions = map[string]json.RawMessage{"tenant": json.RawMessage(`"other"`)}
		}, []string{"tenant"}},
		{"ok/a pointer member", func(m *Metadata) { age := int64(5); m.DefaultMaxAge = &age }, []string{"default_max_age"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			next := base.Clone()
			tt.edit(&next)
			if got := ChangedMembers(base, next); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ChangedMembers = %v, want %v", got, tt.want)
			}
		})
	}
}
