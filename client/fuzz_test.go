package client

import (
	"testing"
)

// FuzzDecode feeds arbitrary bodies through the registration path. Decode,
// Normalize and Marshal must never panic, and whatever Normalize accepts must
// survive the store unchanged (assertRoundTrip).
func FuzzDecode(f *testing.F) {
	seeds := []string{
		mcpBody,
		`{}`,
		`null`,
		`{"redirect_uris":["https://a.example/cb"],"client_name#fr":"Outil","logo_uri#de-CH":"https://a.example/l.png"}`,
		`{"application_type":"native","redirect_uris":["com.example.app:/cb","http://[::1]:8080/"]}`,
		`{"grant_types":["client_credentials"],"response_types":[],"tenant":"acme","groups":["a"],"trusted":true,"quota":-1.5e3}`,
		`{"grant_types":["implicit"],"response_types":["id_token token"],"redirect_uris":["https://a.example/cb"]}`,
		`{"grant_types":["client_credentials"],"token_endpoint_auth_method":"private_key_jwt","jwks":` + publicJWKS(f) + `}`,
		`{"grant_types":["client_credentials"],"token_endpoint_auth_method":"tls_client_auth","tls_client_auth_san_ip":"::1"}`,
		`{"scope":"a b a","default_max_age":0,"client_id":"x","registration_access_token":"t"}`,
		`{"client_name":"\u00e9\u2028","scope":"a","scope":"b"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := Decode(body, extensionOpts)
		if err != nil {
			return
		}
		m := req.Metadata
		if _, err := m.MarshalJSON(); err != nil {
			t.Fatalf("Marshal of decoded metadata failed: %v", err)
		}
		if err := m.Normalize(extensionOpts); err != nil {
			return
		}
		assertRoundTrip(t, m, extensionOpts)
	})
}
