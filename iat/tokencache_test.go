package iat_test

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/iat"
	"github.com/dcrgate/dcrgate/iat/devissuer"
)

// cacheFixture is an issuer, its JWKS server and a validator that refetches
// on every unknown kid, so a test can take a key out of the validator's
// hands (forget) and see which tokens are still answered from the cache.
type cacheFixture struct {
	iss *devissuer.Issuer
	srv *jwksServer
	v   *iat.JWKSValidator
}

func newCacheFixture(t *testing.T, cfg iat.JWKSConfig) *cacheFixture {
	t.Helper()
	iss := newIssuer(t, testIssuer)
	srv := serveJWKS(t, iss.JWKSHandler())
	cfg.Issuer, cfg.JWKSURI = testIssuer, srv.URL
	cfg.MinRefreshInterval = time.Nanosecond
	return &cacheFixture{iss: iss, srv: srv, v: newValidator(t, cfg)}
}

// forget rotates the issuer's key out of its JWKS (it serves the current
// and the previous key) and makes the validator refetch, so every token
// minted before is refused unless it comes from the cache.
func (f *cacheFixture) forget(t *testing.T) {
	t.Helper()
	rotate(t, f.iss)
	rotate(t, f.iss)
	mustValidate(t, f.v, mint(t, f.iss, devissuer.WithAudience("dcrgate"))) // unknown kid: refetch
}

func (f *cacheFixture) refused(t *testing.T, token, why string) {
	t.Helper()
	if _, err := f.v.Validate(t.Context(), token); !errors.Is(err, iat.ErrInvalidToken) {
		t.Errorf("%s: error = %v, want ErrInvalidToken", why, err)
	}
}

func TestTokenCache(t *testing.T) {
	t.Run("ok/hit returns the same principal, even after the key is gone", func(t *testing.T) {
		f := newCacheFixture(t, iat.JWKSConfig{Audience: []string{"dcrgate"}})
		token := mint(t, f.iss, devissuer.WithAudience("dcrgate", "other"))
		first := mustValidate(t, f.v, token)
		f.forget(t)
		// Served from the cache: the key that signed it is no longer known.
		if again := mustValidate(t, f.v, token); !reflect.DeepEqual(again, first) {
			t.Errorf("cached principal = %+v, want %+v", again, first)
		}
	})
	t.Run("ok/callers cannot change the cached principal", func(t *testing.T) {
		f := newCacheFixture(t, iat.JWKSConfig{})
		token := mint(t, f.iss, devissuer.WithAudience("a", "b"))
		first := mustValidate(t, f.v, token)
		want := mustValidate(t, f.v, token) // a hit, kept pristine
		for _, p := range []iat.Principal{first, mustValidate(t, f.v, token)} {
			p.Scopes[0] = "admin"
			p.Claims["sub"] = "mallory"
			p.Claims["aud"].([]any)[0] = "evil"
		}
		if got := mustValidate(t, f.v, token); !reflect.DeepEqual(got, want) || got.Scopes[0] != "dcr" {
			t.Errorf("principal after callers changed theirs = %+v, want %+v", got, want)
		}
	})
	t.Run("ok/a different token never hits", func(t *testing.T) {
		f := newCacheFixture(t, iat.JWKSConfig{})
		cached := mint(t, f.iss)
		other := mint(t, f.iss) // same subject and scopes, other jti
		mustValidate(t, f.v, cached)
		// Same header and claims, other signature: the cache key is the
		// whole token, so it is verified (and refused) like any other.
		tampered := cached[:len(cached)-2] + flip(cached[len(cached)-2:])
		f.refused(t, tampered, "cached token with another signature")
		f.forget(t)
		mustValidate(t, f.v, cached)
		f.refused(t, other, "uncached token of a forgotten key")
		f.refused(t, tampered, "tampered token after the key is gone")
	})
	t.Run("ok/refusals are not cached", func(t *testing.T) {
		f := newCacheFixture(t, iat.JWKSConfig{Audience: []string{"dcrgate"}})
		foreign := mint(t, f.iss, devissuer.WithAudience("api"))
		for range 2 {
			f.refused(t, foreign, "token for another audience")
		}
	})
	t.Run("ok/bounded, least recently used out first", func(t *testing.T) {
		f := newCacheFixture(t, iat.JWKSConfig{TokenCacheSize: 2})
		tokens := []string{mint(t, f.iss), mint(t, f.iss), mint(t, f.iss)}
		for _, tok := range tokens {
			mustValidate(t, f.v, tok)
		}
		f.forget(t) // its own token, a fourth, evicts the second
		f.refused(t, tokens[0], "first token, evicted")
		f.refused(t, tokens[1], "second token, evicted")
		mustValidate(t, f.v, tokens[2])
	})
	t.Run("ok/disabled", func(t *testing.T) {
		f := newCacheFixture(t, iat.JWKSConfig{TokenCacheTTL: -1})
		token := mint(t, f.iss)
		mustValidate(t, f.v, token)
		mustValidate(t, f.v, token)
		f.forget(t)
		f.refused(t, token, "token of a forgotten key, cache disabled")
	})
	t.Run("fail/not consulted while the keys are past MaxKeyAge", func(t *testing.T) {
		f := newCacheFixture(t, iat.JWKSConfig{MaxKeyAge: 300 * time.Millisecond})
		token := mint(t, f.iss)
		mustValidate(t, f.v, token)
		f.srv.Close()
		mustValidate(t, f.v, token)
		time.Sleep(400 * time.Millisecond)
		if _, err := f.v.Validate(t.Context(), token); !errors.Is(err, iat.ErrUnavailable) {
			t.Errorf("cached token, keys past their age: error = %v, want ErrUnavailable", err)
		}
	})
	t.Run("ok/entry ends after the TTL", func(t *testing.T) {
		f := newCacheFixture(t, iat.JWKSConfig{TokenCacheTTL: 100 * time.Millisecond})
		token := mint(t, f.iss)
		mustValidate(t, f.v, token)
		f.forget(t)
		mustValidate(t, f.v, token)
		time.Sleep(150 * time.Millisecond)
		f.refused(t, token, "token of a forgotten key after the cache TTL")
	})
}

// TestTokenCacheExpiry: an entry never outlives the token's exp, whatever
// the TTL and the clock skew. Both cases wait for exp, so they run together.
func TestTokenCacheExpiry(t *testing.T) {
	tests := []struct {
		name   string
		skew   time.Duration
		forget bool
	}{
		// Fresh validation refuses too: the cache must not answer for it.
		{name: "fail/expired token, tight skew", skew: time.Millisecond},
		// Fresh validation would still accept by time (within the skew)
		// but the key is gone: only a cache serving past exp would accept.
		{name: "fail/expired token, within the skew, key gone", skew: time.Hour, forget: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newCacheFixture(t, iat.JWKSConfig{ClockSkew: tt.skew, TokenCacheTTL: time.Hour})
			exp := time.Now().Add(2 * time.Second).Truncate(time.Second) // 1-2s ahead, in whole seconds
			token := mint(t, f.iss, devissuer.WithExpiry(exp))
			mustValidate(t, f.v, token)
			if tt.forget {
				f.forget(t)
				mustValidate(t, f.v, token) // still cached before exp
			}
			time.Sleep(time.Until(exp) + time.Second + 50*time.Millisecond) // past jwx's whole-second truncation
			f.refused(t, token, "expired token")
		})
	}
}

func flip(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

// TestTokenCacheConcurrent churns a small cache from many goroutines, each
// changing the principals it gets; -race checks nothing is shared.
func TestTokenCacheConcurrent(t *testing.T) {
	f := newCacheFixture(t, iat.JWKSConfig{TokenCacheSize: 3})
	subjects := make([]string, 6)
	tokens := make([]string, len(subjects))
	for i := range tokens {
		subjects[i] = fmt.Sprintf("user-%d", i)
		tok, err := f.iss.Mint(subjects[i], []string{"dcr"}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		tokens[i] = tok
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for n := range 50 {
				i := (g + n) % len(tokens)
				p, err := f.v.Validate(t.Context(), tokens[i])
				if err != nil {
					t.Error(err)
					return
				}
				if p.Subject != subjects[i] || p.Claims["sub"] != subjects[i] || p.Scopes[0] != "dcr" {
					t.Errorf("token %d: principal %+v", i, p)
					return
				}
				p.Scopes[0], p.Claims["sub"] = "changed", "changed"
			}
		})
	}
	wg.Wait()
}

func TestTokenCacheConfig(t *testing.T) {
	_, err := iat.NewJWKSValidator(t.Context(), iat.JWKSConfig{Issuer: testIssuer, JWKSURI: "https://as.example.test/jwks",
		TokenCacheSize: -1}, nil)
	if err == nil {
		t.Error("negative token cache size accepted")
	}
}

// BenchmarkValidateRepeatToken is one token presented again and again, as
// by a caller registering many clients with one initial access token.
func BenchmarkValidateRepeatToken(b *testing.B) {
	withAndWithoutCache(b, 1, 0)
}

// BenchmarkValidateDistinctTokens cycles through more tokens than the cache
// holds, so every lookup misses: the cache's cost on top of verification.
func BenchmarkValidateDistinctTokens(b *testing.B) {
	withAndWithoutCache(b, 128, 64)
}

// withAndWithoutCache validates n tokens in turn with a cache of cacheSize
// (0: the default) and with the cache disabled.
func withAndWithoutCache(b *testing.B, n, cacheSize int) {
	for _, bc := range []struct {
		name string
		ttl  time.Duration
	}{{name: "cache", ttl: 0}, {name: "nocache", ttl: -1}} {
		b.Run(bc.name, func(b *testing.B) {
			iss := newIssuer(b, testIssuer)
			srv := serveJWKS(b, iss.JWKSHandler())
			v := newValidator(b, iat.JWKSConfig{Issuer: testIssuer, JWKSURI: srv.URL, Audience: []string{"dcrgate"},
				TokenCacheTTL: bc.ttl, TokenCacheSize: cacheSize})
			tokens := make([]string, n)
			for i := range tokens {
				tokens[i] = mint(b, iss, devissuer.WithAudience("dcrgate"))
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := v.Validate(b.Context(), tokens[i%n]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
