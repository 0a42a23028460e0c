package iat_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/iat"
	"github.com/dcrgate/dcrgate/iat/devissuer"
)

// recoveryBound is how soon after the issuer answers again a token must
// validate: the failure backoff, with room to spare, and far less than the
// 30s refetch interval.
const recoveryBound = time.Second

// refetchFixture is an issuer whose JWKS server can be switched off and on,
// and a validator with the default refetch interval whose rate limit reads
// a clock the test moves.
type refetchFixture struct {
	iss *devissuer.Issuer
	sw  *switchableJWKS
	srv *jwksServer
	clk *fakeClock
	v   *iat.JWKSValidator
}

func newRefetchFixture(t *testing.T) *refetchFixture {
	t.Helper()
	f := &refetchFixture{iss: newIssuer(t, testIssuer), clk: newFakeClock()}
	f.sw = &switchableJWKS{iss: f.iss}
	f.srv = serveJWKS(t, f.sw)
	// No token cache: every validation below must reach the keys.
	f.v = newValidator(t, iat.JWKSConfig{Issuer: testIssuer, JWKSURI: f.srv.URL, TokenCacheTTL: -1})
	iat.SetRefetchClock(f.v, f.clk.Now)
	waitFetched(t, f.srv, 1) // the cache's own first fetch
	mustValidate(t, f.v, mint(t, f.iss))
	// Whatever refetch that took is now out of the rate limit's window.
	f.clk.Advance(iat.DefaultMinRefreshInterval)
	return f
}

func wantErr(t *testing.T, v iat.Validator, token string, want error, why string) {
	t.Helper()
	_, err := v.Validate(t.Context(), token)
	if !errors.Is(err, want) {
		t.Fatalf("%s: error = %v, want %v", why, err, want)
	}
	if other := map[error]error{iat.ErrInvalidToken: iat.ErrUnavailable, iat.ErrUnavailable: iat.ErrInvalidToken}[want]; errors.Is(err, other) {
		t.Fatalf("%s: error = %v is also %v", why, err, other)
	}
}

// TestRotatedKeyWhileIssuerDown: a token signed with a key the validator
// has not seen is never refused because the issuer cannot be asked about
// it, and validates as soon as the issuer answers again.
func TestRotatedKeyWhileIssuerDown(t *testing.T) {
	modes := map[string]issuerMode{"status 500": issuer500, "connection closed": issuerHangUp, "not a JWK Set": issuerGarbage}
	for name, mode := range modes {
		t.Run("ok/"+name, func(t *testing.T) {
			f := newRefetchFixture(t)
			old := mint(t, f.iss)
			rotate(t, f.iss)
			f.sw.set(mode)
			rotated := mint(t, f.iss)

			wantErr(t, f.v, rotated, iat.ErrUnavailable, "rotated key, refetch fails")
			before := f.srv.hits.Load()
			wantErr(t, f.v, rotated, iat.ErrUnavailable, "rotated key, within the failure backoff")
			if got := f.srv.hits.Load() - before; got != 0 {
				t.Errorf("%d fetches within the failure backoff, want 0", got)
			}
			mustValidate(t, f.v, old) // cached keys still verify

			f.sw.set(issuerUp)
			f.clk.Advance(recoveryBound)
			mustValidate(t, f.v, rotated) // the very next validation
		})
	}
}

// TestRotatedKeyWithinRefetchInterval: right after a successful refetch
// the rate limit allows no other, so a new kid cannot be looked up: that
// is 503 (retry later), not 401, even though the last fetch succeeded.
func TestRotatedKeyWithinRefetchInterval(t *testing.T) {
	f := newRefetchFixture(t)
	wantErr(t, f.v, mint(t, f.iss, devissuer.WithKeyID("forged-kid")), iat.ErrInvalidToken, "forged kid, refetch succeeded")
	rotate(t, f.iss)
	f.sw.set(issuer500)
	rotated := mint(t, f.iss)
	wantErr(t, f.v, rotated, iat.ErrUnavailable, "rotated key within the interval, issuer down")
	f.sw.set(issuerUp)
	wantErr(t, f.v, rotated, iat.ErrUnavailable, "rotated key within the interval, issuer up")
	f.clk.Advance(iat.DefaultMinRefreshInterval)
	mustValidate(t, f.v, rotated)
}

// TestForgedKidFlood: a forged kid is refused once a refetch has shown it
// is not at the issuer, and a flood of them costs at most one fetch per
// interval, however many arrive at once.
func TestForgedKidFlood(t *testing.T) {
	f := newRefetchFixture(t)
	forged := func(i int) string { return mint(t, f.iss, devissuer.WithKeyID("forged-"+string(rune('a'+i%26)))) }
	before := f.srv.hits.Load()
	wantErr(t, f.v, forged(0), iat.ErrInvalidToken, "forged kid after a successful refetch")
	if got := f.srv.hits.Load() - before; got != 1 {
		t.Fatalf("%d fetches for the first forged kid, want 1", got)
	}

	for round := range 3 {
		before := f.srv.hits.Load()
		errs := flood(t, f.v, forged, 50)
		if got := f.srv.hits.Load() - before; got > 1 || round == 0 && got != 0 {
			t.Errorf("round %d: %d fetches for 50 forged kids, want at most %d", round, got, min(round, 1))
		}
		refused := 0
		for _, err := range errs {
			switch {
			case errors.Is(err, iat.ErrInvalidToken):
				refused++ // waited for the refetch, which succeeded
			case !errors.Is(err, iat.ErrUnavailable): // the rate limit
				t.Fatalf("round %d: forged kid: error = %v", round, err)
			}
		}
		if round > 0 && refused == 0 {
			t.Errorf("round %d: no forged kid was refused after the refetch", round)
		}
		f.clk.Advance(iat.DefaultMinRefreshInterval)
	}
	mustValidate(t, f.v, mint(t, f.iss))
}

// flood validates n tokens at once and returns their errors.
func flood(t *testing.T, v iat.Validator, token func(int) string, n int) []error {
	t.Helper()
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = token(i)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, tok := range tokens {
		wg.Go(func() { _, errs[i] = v.Validate(t.Context(), tok) })
	}
	wg.Wait()
	return errs
}

// TestDiscoveryRecoversAfterFailure: with the default interval, an AS
// whose metadata failed is asked again after the short failure backoff,
// not 30s later.
func TestDiscoveryRecoversAfterFailure(t *testing.T) {
	iss := newIssuer(t, testIssuer)
	mux := http.NewServeMux()
	srv := serveJWKS(t, mux)
	issuer := srv.URL
	sw := &switchableJWKS{iss: iss}
	sw.set(issuer500)
	mux.Handle("/jwks", iss.JWKSHandler())
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		if issuerMode(sw.mode.Load()) != issuerUp {
			sw.ServeHTTP(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": issuer, "jwks_uri": issuer + "/jwks"})
	})
	clk := newFakeClock()
	d, err := iat.NewDiscoveryValidator(t.Context(), iat.JWKSConfig{Issuer: issuer}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	iat.SetDiscoveryClock(d, clk.Now)
	token := mint(t, iss, devissuer.WithClaim("iss", issuer))
	wantErr(t, d, token, iat.ErrUnavailable, "metadata down")
	sw.set(issuerUp)
	clk.Advance(recoveryBound)
	mustValidate(t, d, token)
}

// TestStatementKeysRecoverAfterFailure: software statements share the
// JWKS path, so a statement signed with a new key is 503 while its
// issuer's JWKS cannot be fetched, and verifies once it can.
func TestStatementKeysRecoverAfterFailure(t *testing.T) {
	signer := newIssuer(t, "https://software.example.test")
	sw := &switchableJWKS{iss: signer}
	srv := serveJWKS(t, sw)
	sv, err := iat.NewStatementVerifier(t.Context(), []iat.StatementIssuer{
		{JWKSConfig: iat.JWKSConfig{Issuer: signer.Issuer(), JWKSURI: srv.URL}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sv.Close() })
	clk := newFakeClock()
	iat.SetStatementClock(sv, signer.Issuer(), clk.Now)
	waitFetched(t, srv, 1)
	rotate(t, signer)
	sw.set(issuerHangUp)
	stmt := mint(t, signer, devissuer.WithType(""))
	if _, err := sv.Verify(t.Context(), stmt); !errors.Is(err, iat.ErrUnavailable) || errors.Is(err, iat.ErrInvalidToken) {
		t.Fatalf("statement with a new key, issuer down: error = %v, want ErrUnavailable", err)
	}
	sw.set(issuerUp)
	clk.Advance(recoveryBound)
	if _, err := sv.Verify(t.Context(), stmt); err != nil {
		t.Fatalf("statement once the issuer is back: error = %v", err)
	}
}

// TestForeignIssuerNeedsNoKeys: a token that names another issuer is
// refused without a fetch, whatever state the JWKS is in: no key of this
// issuer could make it acceptable.
func TestForeignIssuerNeedsNoKeys(t *testing.T) {
	f := newRefetchFixture(t)
	f.sw.set(issuer500)
	other := newIssuer(t, "https://evil.example.test")
	before := f.srv.hits.Load()
	wantErr(t, f.v, mint(t, other), iat.ErrInvalidToken, "token of another issuer, JWKS down")
	wantErr(t, f.v, mint(t, other, devissuer.WithClaim("iss", nil)), iat.ErrInvalidToken, "token without iss, JWKS down")
	if got := f.srv.hits.Load() - before; got != 0 {
		t.Errorf("%d JWKS fetches for tokens of another issuer, want 0", got)
	}
}
