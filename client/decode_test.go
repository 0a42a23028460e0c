package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/dcrgate/dcrgate/oauth"
)

var extensionOpts = Options{Extensions: []Extension{
	{Name: "tenant", Type: ExtensionString},
	{Name: "groups", Type: ExtensionStrings},
	{Name: "trusted", Type: ExtensionBoolean},
	{Name: "quota", Type: ExtensionNumber},
}}

func TestDecodeBodyShape(t *testing.T) {
	tests := []struct {
		name, body, mention string
	}{
		{"fail/empty", ``, "must be a JSON object"},
		{"fail/null", `null`, "must be a JSON object"},
		{"fail/array", `[{"client_name":"x"}]`, "must be a JSON object"},
		{"fail/string", `"client_name"`, "must be a JSON object"},
		{"fail/number", `42`, "must be a JSON object"},
		{"fail/unterminated", `{"client_name":"x"`, "must be a JSON object"},
		{"fail/trailing-comma", `{"client_name":"x",}`, "must be a JSON object"},
		{"fail/trailing-garbage", `{"client_name":"x"}x`, "must be a JSON object"},
		{"fail/two-objects", `{} {}`, "must be a JSON object"},
		{"fail/bad-nested-value", `{"foo":[1,}`, "must be a JSON object"},
		{"fail/invalid-utf8", "{\"client_name\":\"\xff\"}", "UTF-8"},
		{"fail/duplicate", `{"scope":"a","scope":"b"}`, `"scope" more than once`},
		{"fail/duplicate-escaped", `{"scope":"a","sc\u006fpe":"b"}`, `"scope" more than once`},
		{"fail/duplicate-null", `{"scope":null,"scope":"b"}`, `"scope" more than once`},
		{"fail/duplicate-unknown", `{"x":1,"x":2}`, `"x" more than once`},
		{"fail/duplicate-long-name-cut", `{"` + strings.Repeat("n", 500) + `":1,"` + strings.Repeat("n", 500) + `":2}`, `"` + strings.Repeat("n", 64) + `..." more than once`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.body), Options{})
			assertOAuthError(t, err, oauth.ErrInvalidClientMetadata, tt.mention)
		})
	}
}

func TestDecodeTypes(t *testing.T) {
	tests := []struct {
		name, body, mention string
	}{
		{"fail/redirect_uris-string", `{"redirect_uris":"https://a.example/cb"}`, "redirect_uris must be an array of strings"},
		{"fail/redirect_uris-number-element", `{"redirect_uris":[1]}`, "redirect_uris must be an array of strings"},
		{"fail/redirect_uris-null-element", `{"redirect_uris":[null]}`, "redirect_uris must be an array of strings"},
		{"fail/redirect_uris-object", `{"redirect_uris":{}}`, "redirect_uris must be an array of strings"},
		{"fail/client_name-number", `{"client_name":7}`, "client_name must be a string"},
		{"fail/client_name-array", `{"client_name":["x"]}`, "client_name must be a string"},
		{"fail/require_auth_time-string", `{"require_auth_time":"true"}`, "require_auth_time must be a boolean"},
		{"fail/default_max_age-fraction", `{"default_max_age":1.5}`, "default_max_age must be an integer"},
		{"fail/default_max_age-string", `{"default_max_age":"3"}`, "default_max_age must be an integer"},
		{"fail/default_max_age-overflow", `{"default_max_age":99999999999999999999}`, "default_max_age must be an integer"},
		{"fail/jwks-string", `{"jwks":"{}"}`, "jwks must be a JSON object"},
		{"fail/jwks-array", `{"jwks":[]}`, "jwks must be a JSON object"},
		{"fail/contacts-object", `{"contacts":{"a":"b"}}`, "contacts must be an array of strings"},
		{"fail/client_id-number", `{"client_id":12}`, "client_id must be a string"},
		{"fail/software_statement-object", `{"software_statement":{}}`, "software_statement must be a string"},
		{"fail/localized-number", `{"client_name#fr":1}`, `"client_name#fr" must be a string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.body), Options{})
			assertOAuthError(t, err, oauth.ErrInvalidClientMetadata, tt.mention)
		})
	}
}

func TestDecodeStringRules(t *testing.T) {
	small := Options{MaxValueLength: 10, MaxRedirectURIs: 2}
	many := `["` + strings.TrimSuffix(strings.Repeat(`a@example.com","`, 101), `","`) + `"]`
	tests := []struct {
		name, body string
		opts       Options
		want       *oauth.Error
		mention    string
	}{
		{"fail/leading-space", `{"client_name":" x"}`, Options{}, oauth.ErrInvalidClientMetadata, "client_name must not have leading or trailing whitespace"},
		{"fail/trailing-newline", `{"client_uri":"https://a.example/\n"}`, Options{}, oauth.ErrInvalidClientMetadata, "client_uri must not have leading"},
		{"fail/nul", `{"client_name":"a\u0000b"}`, Options{}, oauth.ErrInvalidClientMetadata, "client_name must not contain control characters"},
		{"fail/tab-inside", `{"client_name":"a\tb"}`, Options{}, oauth.ErrInvalidClientMetadata, "client_name must not contain control characters"},
		{"fail/c1-control", `{"client_name":"a\u0085b"}`, Options{}, oauth.ErrInvalidClientMetadata, "client_name must not contain control characters"},
		{"fail/bidi-override", `{"client_name":"evil\u202egnp.exe"}`, Options{}, oauth.ErrInvalidClientMetadata, "client_name must not contain control characters"},
		{"fail/line-separator", `{"client_name":"a\u2028b"}`, Options{}, oauth.ErrInvalidClientMetadata, "client_name must not contain control characters"},
		{"fail/too-long", `{"client_name":"abcdefghijk"}`, small, oauth.ErrInvalidClientMetadata, "client_name must be at most 10 bytes"},
		{"fail/too-long-default", `{"client_name":"` + strings.Repeat("a", 2049) + `"}`, Options{}, oauth.ErrInvalidClientMetadata, "at most 2048 bytes"},
		{"fail/too-long-element", `{"contacts":["abcdefghijk"]}`, small, oauth.ErrInvalidClientMetadata, "contacts[0] must be at most 10 bytes"},
		{"fail/too-long-client_secret", `{"client_secret":"abcdefghijk"}`, small, oauth.ErrInvalidClientMetadata, "client_secret must be at most"},
		{"fail/too-many-redirect_uris", `{"redirect_uris":["https://a","https://b","https://c"]}`, small, oauth.ErrInvalidRedirectURI, "redirect_uris must have at most 2 values"},
		{"fail/too-many-contacts", `{"contacts":` + many + `}`, Options{}, oauth.ErrInvalidClientMetadata, "contacts must have at most 100 values"},
		{"fail/empty-element", `{"contacts":["a@example.com",""]}`, Options{}, oauth.ErrInvalidClientMetadata, "contacts[1] must not be empty"},
		{"fail/redirect-whitespace", `{"redirect_uris":[" https://a.example/cb"]}`, Options{}, oauth.ErrInvalidRedirectURI, "redirect_uris[0] must not have leading"},
		{"fail/redirect-empty", `{"redirect_uris":[""]}`, Options{}, oauth.ErrInvalidRedirectURI, "redirect_uris[0] must not be empty"},
		{"fail/extension-control", `{"tenant":"a\u0001"}`, extensionOpts, oauth.ErrInvalidClientMetadata, "tenant must not contain control characters"},
		{"fail/extension-strings-empty", `{"groups":[""]}`, extensionOpts, oauth.ErrInvalidClientMetadata, "groups[0] must not be empty"},
		{"fail/too-many-localized", manyLocalized(101), Options{}, oauth.ErrInvalidClientMetadata, "at most 100 language-tagged members"},
		{"fail/localized-space", `{"client_name#fr":"x "}`, Options{}, oauth.ErrInvalidClientMetadata, "client_name#fr must not have leading"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.body), tt.opts)
			assertOAuthError(t, err, tt.want, tt.mention)
		})
	}
}

func TestDecodeMembers(t *testing.T) {
	tests := []struct {
		name, body string
		want       Request
	}{
		{"ok/empty-object", `{}`, Request{}},
		{"ok/null-is-absent", `{"client_name":null,"redirect_uris":null,"jwks":null,"client_id":null,"client_id_issued_at":null}`, Request{}},
		{"ok/empty-string-is-absent", `{"client_name":"","scope":""}`, Request{}},
		{"ok/unknown-members-ignored", `{"foo":"bar","Client_Name":"x","nested":{"a":[1,2]}}`, Request{}},
		{"ok/typed-members", `{"client_name":"Tool","redirect_uris":["https://a.example/cb"],"require_auth_time":true,"default_max_age":60,"jwks":{ "keys" : [ ] }}`,
			Request{Metadata: Metadata{ClientName: "Tool", RedirectURIs: []string{"https://a.example/cb"},
				RequireAuthTime: true, DefaultMaxAge: ptr(int64(60)), JWKS: json.RawMessage(`{"keys":[]}`)}}},
		{"ok/empty-array-kept", `{"response_types":[]}`, Request{Metadata: Metadata{ResponseTypes: []string{}}}},
		{"ok/request-members", `{"client_id":"abc","client_secret":"s3cret","software_statement":"` + strings.Repeat("e", 5000) + `"}`,
			Request{ClientID: "abc", ClientSecret: "s3cret", SoftwareStatement: strings.Repeat("e", 5000)}},
		{"ok/server-managed-in-order", `{"client_id_issued_at":1,"registration_access_token":"t","registration_client_uri":"u","client_secret_expires_at":0}`,
			Request{ServerManaged: []string{"client_id_issued_at", "registration_access_token", "registration_client_uri", "client_secret_expires_at"}}},
		{"ok/localized", `{"client_name#fr":"Outil","client_name#ja-Jpan-JP":"ツール","logo_uri#de":"https://a.example/l.png"}`,
			Request{Metadata: Metadata{Localized: map[string]string{
				"client_name#fr": "Outil", "client_name#ja-Jpan-JP": "ツール", "logo_uri#de": "https://a.example/l.png"}}}},
		{"ok/localized-on-other-members-ignored", `{"scope#fr":"a","redirect_uris#fr":["x"],"foo#fr":1}`, Request{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.body), Options{})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Decode =\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

func TestDecodeLanguageTags(t *testing.T) {
	tests := []struct{ name, member string }{
		{"fail/underscore", "client_name#fr_FR"},
		{"fail/empty-tag", "client_name#"},
		{"fail/long-subtag", "client_name#abcdefghi"},
		{"fail/empty-subtag", "client_name#fr--CA"},
		{"fail/digit-first", "tos_uri#1fr"},
		{"fail/non-ascii", "client_name#fré"},
		{"fail/second-hash", "client_name#fr#CA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]string{tt.member: "https://a.example/"})
			_, err := Decode(body, Options{})
			assertOAuthError(t, err, oauth.ErrInvalidClientMetadata, "BCP 47")
		})
	}
}

func TestDecodeExtensions(t *testing.T) {
	t.Run("ok/all-types", func(t *testing.T) {
		body := `{"tenant":"acme","groups":["a","b"],"trusted":true,"quota":1.5e3,"other":"dropped"}`
		req, err := Decode([]byte(body), extensionOpts)
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		want := map[string]json.RawMessage{
			"tenant": json.RawMessage(`"acme"`), "groups": json.RawMessage(`["a","b"]`),
			"trusted": json.RawMessage(`true`), "quota": json.RawMessage(`1.5e3`),
		}
		if !reflect.DeepEqual(req.Metadata.Extensions, want) {
			t.Fatalf("Extensions = %s, want %s", req.Metadata.Extensions, want)
		}
	})
	required := Options{Extensions: []Extension{{Name: "tenant", Type: ExtensionString, Required: true}}}
	tests := []struct {
		name, body string
		opts       Options
		mention    string
	}{
		{"fail/string-got-number", `{"tenant":1}`, extensionOpts, "tenant must be a string"},
		{"fail/strings-got-string", `{"groups":"a"}`, extensionOpts, "groups must be an array of strings"},
		{"fail/boolean-got-string", `{"trusted":"yes"}`, extensionOpts, "trusted must be a boolean"},
		{"fail/number-got-string", `{"quota":"1"}`, extensionOpts, "quota must be a number"},
		{"fail/number-out-of-range", `{"quota":1e999}`, extensionOpts, "quota must be a number"},
		{"fail/required-missing", `{}`, required, "tenant is required"},
		{"fail/required-null", `{"tenant":null}`, required, "tenant is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.body), tt.opts)
			assertOAuthError(t, err, oauth.ErrInvalidClientMetadata, tt.mention)
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		mention string // "" means valid
	}{
		{"ok/empty", Options{}, ""},
		{"ok/all-types", extensionOpts, ""},
		{"fail/unknown-type", Options{Extensions: []Extension{{Name: "x", Type: "int"}}}, `unknown type "int"`},
		{"fail/standard-member", Options{Extensions: []Extension{{Name: "client_name", Type: "string"}}}, "clashes"},
		{"fail/request-member", Options{Extensions: []Extension{{Name: "software_statement", Type: "string"}}}, "clashes"},
		{"fail/server-managed", Options{Extensions: []Extension{{Name: "client_id_issued_at", Type: "number"}}}, "clashes"},
		{"fail/hash", Options{Extensions: []Extension{{Name: "tenant#fr", Type: "string"}}}, "'#'"},
		{"fail/empty-name", Options{Extensions: []Extension{{Name: "", Type: "string"}}}, "empty name"},
		{"fail/space", Options{Extensions: []Extension{{Name: "a b", Type: "string"}}}, "whitespace"},
		{"fail/duplicate", Options{Extensions: []Extension{{Name: "a", Type: "string"}, {Name: "a", Type: "boolean"}}}, "twice"},
		{"fail/negative-limit", Options{MaxValueLength: -1}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			if tt.mention == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("Validate = %v, want error mentioning %q", err, tt.mention)
			}
			if !errors.Is(err, ErrInvalidOptions) {
				t.Fatalf("Validate = %v, want ErrInvalidOptions", err)
			}
		})
	}
	t.Run("fail/reports-all", func(t *testing.T) {
		err := Options{Extensions: []Extension{{Name: "scope", Type: "string"}, {Name: "x", Type: "blob"}}}.Validate()
		if err == nil || !strings.Contains(err.Error(), "scope") || !strings.Contains(err.Error(), "blob") {
			t.Fatalf("Validate = %v, want both problems", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// manyLocalized returns a body with n distinct client_name#xx members.
func manyLocalized(n int) string {
	members := make(map[string]string, n)
	for i := range n {
		members[fmt.Sprintf("client_name#x-%d", i)] = "name"
	}
	body, _ := json.Marshal(members)
	return string(body)
}
