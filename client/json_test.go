package client

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

type jsonRaw = json.RawMessage

// assertRoundTrip checks that normalized metadata survives the store:
// Marshal → Unmarshal gives the same value, Normalize changes nothing more,
// and the bytes are stable.
func assertRoundTrip(t testing.TB, m Metadata, opts Options) {
	t.Helper()
	stored, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	var back Metadata
	if err := json.Unmarshal(stored, &back); err != nil {
		t.Fatalf("Unmarshal(%s): %v", stored, err)
	}
	if !reflect.DeepEqual(back, m) {
		t.Fatalf("round trip changed metadata:\n got %#v\nwant %#v\njson %s", back, m, stored)
	}
	if err := back.Normalize(opts); err != nil {
		t.Fatalf("Normalize is not idempotent: second run failed: %v\njson %s", err, stored)
	}
	if !reflect.DeepEqual(back, m) {
		t.Fatalf("Normalize is not idempotent:\n got %#v\nwant %#v", back, m)
	}
	again, err := json.Marshal(back)
	if err != nil || string(again) != string(stored) {
		t.Fatalf("Marshal is not stable: %s vs %s (%v)", again, stored, err)
	}
}

// TestMarshalOrder pins the canonical form byte for byte: struct order, then
// language-tagged members sorted, then extensions sorted; compact; the same
// bytes whether the caller uses json.Marshal or MarshalJSON.
func TestMarshalOrder(t *testing.T) {
	m := Metadata{
		RedirectURIs:            []string{"https://a.example/cb?x=1&y=<2>"},
		TokenEndpointAuthMethod: "none",
		ClientName:              "Tool",
		JWKS:                    jsonRaw(`{ "keys": [] }`),
		ApplicationType:         "web",
		DefaultMaxAge:           ptr(int64(0)),
		Localized:               map[string]string{"logo_uri#fr": "https://a.example/fr.png", "client_name#de": "Werkzeug"},
		Extensions:              map[string]jsonRaw{"zeta": jsonRaw(`[ "a" ]`), "alpha": jsonRaw(`true`)},
	}
	got, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"redirect_uris":["https://a.example/cb?x=1\u0026y=\u003c2\u003e"],"token_endpoint_auth_method":"none","client_name":"Tool",` +
		`"jwks":{"keys":[]},"application_type":"web","default_max_age":0,` +
		`"client_name#de":"Werkzeug","logo_uri#fr":"https://a.example/fr.png","alpha":true,"zeta":["a"]}`
	if string(got) != want {
		t.Fatalf("Marshal =\n%s\nwant\n%s", got, want)
	}
	direct, err := m.MarshalJSON()
	if err != nil || string(direct) != want {
		t.Fatalf("MarshalJSON = %s, %v; want the json.Marshal bytes", direct, err)
	}
}

func TestMarshalEmptyAndEmbedded(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"ok/empty", Metadata{}, `{}`},
		{"ok/only-localized", Metadata{Localized: map[string]string{"client_name#fr": "x"}}, `{"client_name#fr":"x"}`},
		{"ok/only-extension", Metadata{Extensions: map[string]jsonRaw{"tenant": jsonRaw(`"a"`)}}, `{"tenant":"a"}`},
		{"ok/embedded-value", struct{ M Metadata }{Metadata{ClientName: "x"}}, `{"M":{"client_name":"x"}}`},
		{"ok/embedded-pointer", struct{ M *Metadata }{&Metadata{Scope: "a"}}, `{"M":{"scope":"a"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.v)
			if err != nil || string(got) != tt.want {
				t.Fatalf("Marshal = %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}

func TestMarshalRefusesAmbiguousNames(t *testing.T) {
	tests := []struct {
		name string
		m    Metadata
	}{
		{"fail/extension-shadows-member", Metadata{Extensions: map[string]jsonRaw{"scope": jsonRaw(`"x"`)}}},
		{"fail/extension-with-hash", Metadata{Extensions: map[string]jsonRaw{"a#fr": jsonRaw(`"x"`)}}},
		{"fail/localized-without-tag", Metadata{Localized: map[string]string{"client_name": "x"}}},
		{"fail/extension-invalid-json", Metadata{Extensions: map[string]jsonRaw{"a": jsonRaw(`{`)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := json.Marshal(tt.m); err == nil {
				t.Fatalf("Marshal = %s, want an error", got)
			}
		})
	}
}

func TestUnmarshalStored(t *testing.T) {
	t.Run("ok/everything", func(t *testing.T) {
		stored := `{"redirect_uris":["https://a.example/cb"],"client_name":"Tool","require_auth_time":true,"default_max_age":30,` +
			`"jwks":{"keys":[]},"client_name#fr":"Outil","tenant":"acme","groups":["a","b"]}`
		var m Metadata
		if err := json.Unmarshal([]byte(stored), &m); err != nil {
			t.Fatal(err)
		}
		want := Metadata{
			RedirectURIs: []string{"https://a.example/cb"}, ClientName: "Tool", RequireAuthTime: true,
			DefaultMaxAge: ptr(int64(30)), JWKS: jsonRaw(`{"keys":[]}`),
			Localized:  map[string]string{"client_name#fr": "Outil"},
			Extensions: map[string]jsonRaw{"tenant": jsonRaw(`"acme"`), "groups": jsonRaw(`["a","b"]`)},
		}
		if !reflect.DeepEqual(m, want) {
			t.Fatalf("Unmarshal =\n%#v\nwant\n%#v", m, want)
		}
	})
	t.Run("ok/replaces-previous-content", func(t *testing.T) {
		m := Metadata{Scope: "old", Localized: map[string]string{"client_name#fr": "vieux"}}
		if err := json.Unmarshal([]byte(`{"client_name":"new"}`), &m); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(m, Metadata{ClientName: "new"}) {
			t.Fatalf("Unmarshal kept old content: %#v", m)
		}
	})
	t.Run("ok/null-leaves-value", func(t *testing.T) {
		var doc struct{ M Metadata }
		doc.M.ClientName = "kept"
		if err := json.Unmarshal([]byte(`{"M":null}`), &doc); err != nil || doc.M.ClientName != "kept" {
			t.Fatalf("Unmarshal null = %v, %#v", err, doc.M)
		}
	})
	for _, tt := range []struct{ name, data string }{
		{"fail/not-object", `[]`},
		{"fail/wrong-type", `{"redirect_uris":"x"}`},
		{"fail/localized-not-string", `{"client_name#fr":1}`},
		{"fail/member-twice", `{"client_name":"a","client_name":"b"}`},
		{"fail/invalid", `{"client_name":"a"`},
		{"fail/trailing-data", `{"client_name":"a"} {}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var m Metadata
			err := m.UnmarshalJSON([]byte(tt.data))
			if !errors.Is(err, errStoredMetadata) {
				t.Fatalf("UnmarshalJSON = %v, want errStoredMetadata", err)
			}
		})
	}
}
