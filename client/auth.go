package client

import (
	"encoding/json"
	"net/netip"
	"slices"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// Token endpoint authentication methods (RFC 7591 §2, RFC 8705 §2).
const (
	AuthClientSecretBasic       = "client_secret_basic"
	AuthClientSecretPost        = "client_secret_post"
	AuthClientSecretJWT         = "client_secret_jwt"
	AuthNone                    = "none"
	AuthPrivateKeyJWT           = "private_key_jwt"
	AuthTLSClientAuth           = "tls_client_auth"
	AuthSelfSignedTLSClientAuth = "self_signed_tls_client_auth"
)

var supportedAuthMethods = []string{
	AuthClientSecretBasic, AuthClientSecretPost, AuthNone, AuthPrivateKeyJWT,
	AuthTLSClientAuth, AuthSelfSignedTLSClientAuth,
}

// IsConfidential reports whether the client authenticates with a client
// secret the server issues (client_secret_basic or client_secret_post). An
// empty method counts as client_secret_basic, the RFC 7591 §2 default.
func (m Metadata) IsConfidential() bool {
	switch m.TokenEndpointAuthMethod {
	case "", AuthClientSecretBasic, AuthClientSecretPost:
		return true
	}
	return false
}

// normalizeAuthMethod defaults token_endpoint_auth_method to
// client_secret_basic (RFC 7591 §2) and checks that it is one we can serve.
// client_secret_jwt needs the secret in clear to verify an HMAC, and secrets
// are stored hashed. A public client ("none") cannot use client_credentials,
// which authenticates the client and nothing else (RFC 6749 §4.4).
func (m *Metadata) normalizeAuthMethod() error {
	switch {
	case m.TokenEndpointAuthMethod == "":
		m.TokenEndpointAuthMethod = AuthClientSecretBasic
	case m.TokenEndpointAuthMethod == AuthClientSecretJWT:
		return invalidMetadata("token_endpoint_auth_method client_secret_jwt is not supported because client secrets are stored hashed; use private_key_jwt")
	case !slices.Contains(supportedAuthMethods, m.TokenEndpointAuthMethod):
		return invalidMetadata("token_endpoint_auth_method must be one of %s", strings.Join(supportedAuthMethods, ", "))
	}
	if m.TokenEndpointAuthMethod == AuthNone && slices.Contains(m.GrantTypes, GrantClientCredentials) {
		return invalidMetadata("token_endpoint_auth_method none cannot be used with the client_credentials grant: a public client cannot authenticate")
	}
	return nil
}

// checkKeys enforces the rules on the client's keys. RFC 7591 §2: "The
// jwks_uri and jwks parameters MUST NOT both be present". private_key_jwt
// (RFC 7523 §2.2) and self_signed_tls_client_auth (RFC 8705 §2.2) verify
// against the client's registered keys, so they need one of them. A JWK Set
// holding private or symmetric keys is refused: the client would be handing
// us its secrets.
func (m *Metadata) checkKeys() error {
	if len(m.JWKS) > 0 && m.JWKSURI != "" {
		return invalidMetadata("jwks and jwks_uri must not both be present (RFC 7591 §2)")
	}
	needsKeys := m.TokenEndpointAuthMethod == AuthPrivateKeyJWT || m.TokenEndpointAuthMethod == AuthSelfSignedTLSClientAuth
	if needsKeys && len(m.JWKS) == 0 && m.JWKSURI == "" {
		return invalidMetadata("token_endpoint_auth_method %s requires jwks or jwks_uri", m.TokenEndpointAuthMethod)
	}
	if len(m.JWKS) == 0 {
		return nil
	}
	compact, err := kindObject.parse(m.JWKS)
	if err != nil {
		return typeError("jwks", kindObject)
	}
	m.JWKS = compact.(json.RawMessage)
	return checkJWKS(m.JWKS)
}

// checkJWKS checks that jwks is a JWK Set (RFC 7517 §5: an object with a
// "keys" array) of public keys.
func checkJWKS(raw json.RawMessage) error {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return typeError("jwks", kindObject)
	}
	var keys []json.RawMessage
	if err := json.Unmarshal(doc["keys"], &keys); err != nil || len(keys) == 0 {
		return invalidMetadata("jwks must be a JWK Set with a non-empty \"keys\" array (RFC 7517 §5)")
	}
	if len(keys) > maxArrayLength {
		return invalidMetadata("jwks must have at most %d keys", maxArrayLength)
	}
	set, err := jwk.Parse(raw)
	if err != nil {
		return invalidMetadata("jwks is not a valid JWK Set")
	}
	for i := range set.Len() {
		key, _ := set.Key(i)
		if private, err := jwk.IsPrivateKey(key); err != nil || private {
			return invalidMetadata("jwks.keys[%d] must be a public key: private and symmetric keys are refused", i)
		}
	}
	return nil
}

// tlsSubjectMembers are the RFC 8705 §2.1.2 members that say which
// certificate a tls_client_auth client presents.
var tlsSubjectMembers = []string{
	"tls_client_auth_subject_dn",
	"tls_client_auth_san_dns",
	"tls_client_auth_san_uri",
	"tls_client_auth_san_ip",
	"tls_client_auth_san_email",
}

// checkTLSClientAuth: RFC 8705 §2.1.2 — a tls_client_auth client "MUST use
// exactly one" of the subject members. Other methods never look at them, so
// sending one with another method is a mistake worth reporting.
func (m *Metadata) checkTLSClientAuth() error {
	var present []string
	for _, name := range tlsSubjectMembers {
		if len(m.stringValues(name)) > 0 {
			present = append(present, name)
		}
	}
	if m.TokenEndpointAuthMethod != AuthTLSClientAuth {
		if len(present) > 0 {
			return invalidMetadata("%s is only allowed with token_endpoint_auth_method tls_client_auth", present[0])
		}
		return nil
	}
	if len(present) != 1 {
		return invalidMetadata("token_endpoint_auth_method tls_client_auth requires exactly one of %s (RFC 8705 §2.1.2)",
			strings.Join(tlsSubjectMembers, ", "))
	}
	if _, err := netip.ParseAddr(m.TLSClientAuthSANIP); m.TLSClientAuthSANIP != "" && err != nil {
		return invalidMetadata("tls_client_auth_san_ip must be an IPv4 or IPv6 address")
	}
	return nil
}
