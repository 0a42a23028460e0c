package iat_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/iat"
	"github.com/dcrgate/dcrgate/iat/devissuer"
)

// jwksServer serves h and counts the requests it answers.
type jwksServer struct {
	*httptest.Server
	hits atomic.Int64
}

func serveJWKS(t testing.TB, h http.Handler) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.Server = httptest.NewServer(s.count(h))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h.ServeHTTP(w, r)
	})
}

// closedAddr returns a loopback address nothing listens on (until a test
// starts a server there).
func closedAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func newIssuer(t testing.TB, name string) *devissuer.Issuer {
	t.Helper()
	iss, err := devissuer.New(name)
	if err != nil {
		t.Fatal(err)
	}
	return iss
}

func newValidator(t testing.TB, cfg iat.JWKSConfig) *iat.JWKSValidator {
	t.Helper()
	v, err := iat.NewJWKSValidator(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	return v
}

func mint(t testing.TB, iss *devissuer.Issuer, opts ...devissuer.MintOption) string {
	t.Helper()
	tok, err := iss.Mint("alice", []string{"dcr", "openid"}, time.Minute, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// craft builds a compact JWS by hand, for tokens no library would sign.
func craft(t testing.TB, header, claims map[string]any, sign func(input []byte) []byte) string {
	t.Helper()
	input := b64json(t, header) + "." + b64json(t, claims)
	return input + "." + base64.RawURLEncoding.EncodeToString(sign([]byte(input)))
}

func b64json(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hs256(secret []byte) func([]byte) []byte {
	return func(input []byte) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write(input)
		return m.Sum(nil)
	}
}

func validClaims(issuer string) map[string]any {
	now := time.Now()
	return map[string]any{"iss": issuer, "sub": "mallory", "scope": "dcr",
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
}

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// issuerMode is how a switchableJWKS answers.
type issuerMode int32

const (
	issuerUp      issuerMode = iota // serves the issuer's current JWKS
	issuer500                       // answers 500
	issuerHangUp                    // closes the connection without an answer
	issuerGarbage                   // answers 200 with a body that is no JWK Set
)

// switchableJWKS serves an issuer's JWKS, or fails the way its mode says,
// so a test can take the issuer down and bring it back.
type switchableJWKS struct {
	iss  *devissuer.Issuer
	mode atomic.Int32
}

func (s *switchableJWKS) set(m issuerMode) { s.mode.Store(int32(m)) }

func (s *switchableJWKS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch issuerMode(s.mode.Load()) {
	case issuer500:
		http.Error(w, "down", http.StatusInternalServerError)
	case issuerHangUp:
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
		}
	case issuerGarbage:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"keys": "maintenance"`))
	default:
		s.iss.JWKSHandler().ServeHTTP(w, r)
	}
}

// waitFetched waits (generously) until srv has answered n requests, so
// that the cache's own first fetch, which runs in the background, is not
// counted as one a test caused.
func waitFetched(t testing.TB, srv *jwksServer, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for srv.hits.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("the JWKS was fetched %d times, want %d", srv.hits.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// payloadOf decodes the claims of a compact JWS without verifying it.
func payloadOf(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}
