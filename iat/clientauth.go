package iat

import (
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// How dcrgate authenticates to an introspection endpoint (RFC 7662 §2.1
// requires some authorization; the methods are those of RFC 7591 §2).
const (
	// AuthNone sends no credentials, for endpoints protected by the network
	// (such as ORY Hydra's admin port).
	AuthNone = "none"
	// AuthClientSecretBasic is HTTP Basic (RFC 6749 §2.3.1).
	AuthClientSecretBasic = "client_secret_basic"
	// AuthClientSecretPost puts the credentials in the form body.
	AuthClientSecretPost = "client_secret_post"
	// AuthPrivateKeyJWT signs a client assertion (RFC 7523 §2.2, OpenID
	// Connect Core §9).
	AuthPrivateKeyJWT = "private_key_jwt"
)

// AuthMethods lists the accepted ClientAuth.Method values.
var AuthMethods = []string{AuthNone, AuthClientSecretBasic, AuthClientSecretPost, AuthPrivateKeyJWT}

// assertionType is RFC 7523 §2.2's client_assertion_type.
const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionTTL is how long a client assertion is valid: just long enough
// for one request, so a captured assertion is worth little (RFC 7523 §3).
const assertionTTL = time.Minute

// ClientAuth is dcrgate's client authentication at an introspection endpoint.
type ClientAuth struct {
	Method       string
	ClientID     string
	ClientSecret string
	// PrivateKey signs client assertions (private_key_jwt); see
	// LoadPrivateKey. Its "kid" goes in the assertion's header.
	PrivateKey jwk.Key
	// Algorithm is the JWS algorithm of client assertions.
	Algorithm string
	// Audience is the assertion's "aud"; default the endpoint's URL
	// (RFC 7523 §3 names the endpoint URL as a suitable value).
	Audience string
}

func (a ClientAuth) check() error {
	switch a.Method {
	case AuthNone:
		return nil
	case AuthClientSecretBasic, AuthClientSecretPost:
		if a.ClientID == "" || a.ClientSecret == "" {
			return fmt.Errorf("%s needs a client ID and a secret", a.Method)
		}
		return nil
	case AuthPrivateKeyJWT:
		if a.ClientID == "" || a.PrivateKey == nil {
			return fmt.Errorf("%s needs a client ID and a private key", a.Method)
		}
		return keyFits(a.PrivateKey, a.Algorithm)
	}
	return fmt.Errorf("client authentication %q is not one of %v", a.Method, AuthMethods)
}

// apply authenticates req, whose form is sent as the body afterwards.
func (a ClientAuth) apply(req *http.Request, form url.Values) error {
	switch a.Method {
	case AuthClientSecretBasic:
		// RFC 6749 §2.3.1: both are form-urlencoded before Basic encoding.
		req.SetBasicAuth(url.QueryEscape(a.ClientID), url.QueryEscape(a.ClientSecret))
	case AuthClientSecretPost:
		form.Set("client_id", a.ClientID)
		form.Set("client_secret", a.ClientSecret)
	case AuthPrivateKeyJWT:
		assertion, err := a.assertion(req.URL.String())
		if err != nil {
			return err
		}
		form.Set("client_assertion_type", assertionType)
		form.Set("client_assertion", assertion)
	}
	return nil
}

// assertion signs a fresh client assertion (RFC 7523 §3): iss and sub are
// the client ID, jti is random so the AS can refuse replays.
func (a ClientAuth) assertion(endpoint string) (string, error) {
	aud := a.Audience
	if aud == "" {
		aud = endpoint
	}
	now := time.Now()
	payload, err := json.Marshal(map[string]any{"iss": a.ClientID, "sub": a.ClientID, "aud": aud,
		"jti": randomID(), "iat": now.Unix(), "exp": now.Add(assertionTTL).Unix()})
	if err != nil {
		return "", err
	}
	alg, _ := jwa.LookupSignatureAlgorithm(a.Algorithm)
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.TypeKey, "JWT"); err != nil {
		return "", err
	}
	signed, err := jws.Sign(payload, jws.WithKey(alg, a.PrivateKey, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("sign client assertion: %w", err)
	}
	return string(signed), nil
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// LoadPrivateKey reads a PEM private key (PKCS#8, PKCS#1 or SEC 1) for
// private_key_jwt. alg "" picks the usual algorithm for the key (RS256,
// ES256/384/512 by curve, EdDSA); kid "" uses the key's RFC 7638
// thumbprint, which is what the AS sees in the registered JWKS.
func LoadPrivateKey(pemData []byte, kid, alg string) (jwk.Key, string, error) {
	key, err := jwk.ParseKey(pemData, jwk.WithPEM(true))
	if err != nil {
		return nil, "", fmt.Errorf("iat: private key: %w", err)
	}
	if _, private := key.(interface{ D() ([]byte, bool) }); !private {
		return nil, "", errors.New("iat: private key: the PEM holds a public key")
	}
	if alg == "" {
		alg = defaultAlg(key)
	}
	if err := keyFits(key, alg); err != nil {
		return nil, "", fmt.Errorf("iat: private key: %w", err)
	}
	if kid == "" {
		tp, err := key.Thumbprint(crypto.SHA256)
		if err != nil {
			return nil, "", fmt.Errorf("iat: private key thumbprint: %w", err)
		}
		kid = base64.RawURLEncoding.EncodeToString(tp)
	}
	if err := key.Set(jwk.KeyIDKey, kid); err != nil {
		return nil, "", fmt.Errorf("iat: private key: %w", err)
	}
	return key, alg, nil
}

// defaultAlg is the customary algorithm for a key's type and curve.
func defaultAlg(key jwk.Key) string {
	switch {
	case key.KeyType() == jwa.RSA():
		return "RS256"
	case key.KeyType() == jwa.OKP():
		return "EdDSA"
	}
	for name, fam := range allowedAlgs {
		if fam.kty == key.KeyType() && fam.crv == keyCurve(key) {
			return name
		}
	}
	return ""
}

// keyFits reports whether key can sign with alg.
func keyFits(key jwk.Key, alg string) error {
	fam, ok := allowedAlgs[alg]
	if !ok {
		return fmt.Errorf("algorithm %q is not one of %v", alg, Algorithms())
	}
	if key.KeyType() != fam.kty || keyCurve(key) != fam.crv {
		return fmt.Errorf("a %s key (curve %q) cannot sign %s", key.KeyType(), keyCurve(key), alg)
	}
	return nil
}
