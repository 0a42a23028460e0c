// Package devissuer is a tiny authorization server for development and
// tests: it holds an ES256 key pair, serves the public half as a JWKS and
// mints RFC 9068 JWT access tokens that dcrgate accepts as initial access
// tokens. It is used by `dcrgate dev` and by tests across the repository, so
// tokens it mints go through the same validation path as a real AS's tokens.
//
// It is not an authorization server: there is no client authentication and
// no token endpoint. Never expose it in production.
package devissuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// TokenType is the JOSE "typ" of minted tokens (RFC 9068 §2.1).
const TokenType = "at+jwt"

// signingKey is one ES256 key pair with its key ID.
type signingKey struct {
	kid  string
	priv *ecdsa.PrivateKey
}

// Issuer mints tokens and serves its JWKS. It is safe for concurrent use.
type Issuer struct {
	issuer string

	mu      sync.RWMutex
	current signingKey
	jwks    []byte // public JWKS: current and previous key, see Rotate
}

// New returns an issuer named issuer (the "iss" of its tokens) with a fresh
// ES256 key pair. issuer must be an absolute http(s) URL, as RFC 8414 §2
// requires of an issuer identifier, so that it can be used in configuration
// unchanged.
func New(issuer string) (*Issuer, error) {
	if err := checkIssuer(issuer); err != nil {
		return nil, err
	}
	i := &Issuer{issuer: issuer}
	if err := i.Rotate(); err != nil {
		return nil, err
	}
	return i, nil
}

// FromKey returns an issuer named issuer that signs with priv, an ES256
// (P-256) key kept by the caller, e.g. in a file: its key ID is the key's
// RFC 7638 thumbprint, so the same key always publishes the same JWKS.
func FromKey(issuer string, priv *ecdsa.PrivateKey) (*Issuer, error) {
	if err := checkIssuer(issuer); err != nil {
		return nil, err
	}
	if priv.Curve != elliptic.P256() {
		return nil, errors.New("devissuer: the key must be an ECDSA P-256 key (ES256)")
	}
	pub, err := jwk.Import(&priv.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("devissuer: import key: %w", err)
	}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("devissuer: thumbprint: %w", err)
	}
	key := signingKey{kid: base64.RawURLEncoding.EncodeToString(thumb), priv: priv}
	jwks, err := publicJWKS([]signingKey{key})
	if err != nil {
		return nil, err
	}
	return &Issuer{issuer: issuer, current: key, jwks: jwks}, nil
}

// JWKS returns the public JWK Set the issuer serves.
func (i *Issuer) JWKS() []byte {
	i.mu.RLock()
	defer i.mu.RUnlock()
	return slices.Clone(i.jwks)
}

func checkIssuer(issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil {
		return fmt.Errorf("devissuer: issuer %q: %w", issuer, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("devissuer: issuer %q must be an absolute http(s) URL", issuer)
	}
	return nil
}

// Issuer returns the issuer identifier put in every token's "iss".
func (i *Issuer) Issuer() string { return i.issuer }

// KeyID returns the kid of the current signing key.
func (i *Issuer) KeyID() string {
	i.mu.RLock()
	defer i.mu.RUnlock()
	return i.current.kid
}

// Rotate replaces the signing key with a fresh one. The JWKS then serves the
// new key and the one before it (never more), the way a real AS rolls keys
// over: tokens minted just before the rotation stay valid until they expire,
// while a validator that sees the new kid must refetch the JWKS. A second
// Rotate drops the oldest key, so tokens signed with it stop validating.
func (i *Issuer) Rotate() error {
	key, err := newSigningKey()
	if err != nil {
		return err
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	keys := []signingKey{key}
	if i.current.priv != nil {
		keys = append(keys, i.current)
	}
	jwks, err := publicJWKS(keys)
	if err != nil {
		return err
	}
	i.current, i.jwks = key, jwks
	return nil
}

func newSigningKey() (signingKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return signingKey{}, fmt.Errorf("devissuer: generate key: %w", err)
	}
	return signingKey{kid: randomString(12), priv: priv}, nil
}

// publicJWKS renders the public keys as an RFC 7517 §5 JWK Set, each key
// with kid, alg and use so validators need not infer anything.
func publicJWKS(keys []signingKey) ([]byte, error) {
	set := jwk.NewSet()
	for _, k := range keys {
		pub, err := jwk.Import(&k.priv.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("devissuer: import key: %w", err)
		}
		for name, v := range map[string]any{jwk.KeyIDKey: k.kid, jwk.AlgorithmKey: jwa.ES256(), jwk.KeyUsageKey: "sig"} {
			if err := pub.Set(name, v); err != nil {
				return nil, fmt.Errorf("devissuer: set %s: %w", name, err)
			}
		}
		if err := set.AddKey(pub); err != nil {
			return nil, fmt.Errorf("devissuer: add key: %w", err)
		}
	}
	return json.Marshal(set)
}

// JWKSHandler serves the public JWKS to GET and HEAD requests.
func (i *Issuer) JWKSHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		i.mu.RLock()
		body := i.jwks
		i.mu.RUnlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
}

// mint is the token being built; MintOptions edit it.
type mint struct {
	claims map[string]any
	kid    string
	typ    string
}

// MintOption changes a token before it is signed.
type MintOption func(*mint)

// WithAudience sets "aud": one value as a string, several as an array
// (RFC 7519 §4.1.3 allows both).
func WithAudience(aud ...string) MintOption {
	return func(m *mint) {
		switch len(aud) {
		case 0:
			delete(m.claims, "aud")
		case 1:
			m.claims["aud"] = aud[0]
		default:
			m.claims["aud"] = aud
		}
	}
}

// WithClaim sets any claim, overriding the defaults (iss, sub, client_id,
// scope, iat, nbf, exp, jti). A nil value removes the claim.
func WithClaim(name string, value any) MintOption {
	return func(m *mint) {
		if value == nil {
			delete(m.claims, name)
			return
		}
		m.claims[name] = value
	}
}

// WithExpiry sets "exp" to t, e.g. in the past to mint an expired token.
func WithExpiry(t time.Time) MintOption {
	return func(m *mint) { m.claims["exp"] = t.Unix() }
}

// WithKeyID puts kid in the JOSE header instead of the signing key's own,
// e.g. to forge a token naming a key the JWKS does not have. The token is
// still signed with the current key.
func WithKeyID(kid string) MintOption {
	return func(m *mint) { m.kid = kid }
}

// WithType sets the JOSE "typ" header; "" omits it.
func WithType(typ string) MintOption {
	return func(m *mint) { m.typ = typ }
}

// Mint returns a signed token for subject with scopes (as the space-separated
// "scope" claim of RFC 9068 §2.2.3; omitted when empty), valid for ttl. Like
// a client-credentials token, its client_id is the subject unless
// WithClaim("client_id", ...) says otherwise.
func (i *Issuer) Mint(subject string, scopes []string, ttl time.Duration, opts ...MintOption) (string, error) {
	if subject == "" {
		return "", errors.New("devissuer: subject is required")
	}
	if ttl <= 0 {
		return "", fmt.Errorf("devissuer: ttl %v must be positive (use WithExpiry for expired tokens)", ttl)
	}
	i.mu.RLock()
	key := i.current
	i.mu.RUnlock()
	m := i.defaults(key.kid, subject, scopes, ttl)
	for _, opt := range opts {
		opt(m)
	}
	return sign(key.priv, m)
}

func (i *Issuer) defaults(kid, subject string, scopes []string, ttl time.Duration) *mint {
	now := time.Now()
	claims := map[string]any{
		"iss":       i.issuer,
		"sub":       subject,
		"client_id": subject,
		"iat":       now.Unix(),
		"nbf":       now.Unix(),
		"exp":       now.Add(ttl).Unix(),
		"jti":       randomString(16),
	}
	if len(scopes) > 0 {
		claims["scope"] = strings.Join(scopes, " ")
	}
	return &mint{claims: claims, kid: kid, typ: TokenType}
}

func sign(priv *ecdsa.PrivateKey, m *mint) (string, error) {
	payload, err := json.Marshal(m.claims)
	if err != nil {
		return "", fmt.Errorf("devissuer: encode claims: %w", err)
	}
	hdr := jws.NewHeaders()
	if err := setHeaders(hdr, m); err != nil {
		return "", err
	}
	tok, err := jws.Sign(payload, jws.WithKey(jwa.ES256(), priv, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("devissuer: sign: %w", err)
	}
	return string(tok), nil
}

func setHeaders(hdr jws.Headers, m *mint) error {
	if m.kid != "" {
		if err := hdr.Set(jws.KeyIDKey, m.kid); err != nil {
			return fmt.Errorf("devissuer: set kid: %w", err)
		}
	}
	if m.typ != "" {
		if err := hdr.Set(jws.TypeKey, m.typ); err != nil {
			return fmt.Errorf("devissuer: set typ: %w", err)
		}
	}
	return nil
}

// randomString returns n random bytes, base64url-encoded. crypto/rand.Read
// never fails (Go 1.24+), so there is no error to return.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
