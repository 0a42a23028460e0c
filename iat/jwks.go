package iat

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/httprc/v3/errsink"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Defaults for JWKSConfig. There is deliberately no default clock skew:
// a validator tolerates exactly the skew it is given, and 0 is a valid,
// strict setting. The configuration layer owns the default
// (config.DefaultClockSkew), which it applies only when clock_skew is
// omitted.
const (
	DefaultMinRefreshInterval = 30 * time.Second
	DefaultHTTPTimeout        = 5 * time.Second
	// DefaultTokenCacheTTL is the longest a verified token is answered from
	// the cache without checking its signature again.
	DefaultTokenCacheTTL = time.Minute
	// DefaultTokenCacheSize bounds the verified-token cache. Only tokens
	// whose signature verified go in, so it fills only as fast as the
	// issuer mints tokens that reach dcrgate.
	DefaultTokenCacheSize = 1024
	// refreshTimeout bounds one on-demand JWKS refetch, including the wait
	// for the cache's worker; callers stop waiting when their context ends.
	refreshTimeout = 10 * time.Second
)

// JWKSConfig configures a JWKSValidator for one issuer.
type JWKSConfig struct {
	// Issuer is required and must equal the token's "iss" exactly
	// (RFC 9068 §4, RFC 8414 §2).
	Issuer string
	// JWKSURI is the issuer's JWK Set (RFC 7517 §5). Exactly one of JWKSURI
	// and JWKS is required.
	JWKSURI string
	// JWKS is a key set given inline, for issuers (such as software
	// statement signers) that publish no URL. It is never refetched.
	JWKS jwk.Set
	// Audience, when set, is the list of names the gateway answers to;
	// the token's "aud" must contain one of them (RFC 9068 §4).
	Audience []string
	// Algorithms, when set, narrows the accepted JWS algorithms for this
	// issuer (RFC 8725 §3.1); see Algorithms for the possible values.
	Algorithms []string
	// ClockSkew is tolerated on exp, nbf and iat (the "small leeway" of
	// RFC 7519 §4.1.4, §4.1.5). Exactly this much: 0 means none, not a
	// default.
	ClockSkew time.Duration
	// RequireATJWT refuses tokens whose "typ" is not "at+jwt", so that an
	// ID token or another JWT the issuer signs cannot pass for an access
	// token (RFC 9068 §2.1, §4).
	RequireATJWT bool
	// ScopeClaim names the claim that carries the scopes; default "scope",
	// then "scp".
	ScopeClaim string
	// ExpOptional accepts tokens without "exp". Software statements
	// (RFC 7591 §2.3) often have none; access tokens always need one.
	ExpOptional bool
	// HTTPClient fetches the JWKS. Default: a client with a 5s timeout.
	// Either way jwx's redirect hardening is added.
	HTTPClient *http.Client
	// MinRefreshInterval is the least time between a successful refetch
	// caused by a kid that is not in the cached set and the next one, so
	// forged kids cannot make the gateway hammer the issuer; meanwhile a
	// token with an unknown kid cannot be judged and gets ErrUnavailable.
	// After a failed refetch the next may start much sooner (after at most
	// 500ms), so the keys are fetched as soon as the issuer answers again.
	// Default 30s.
	MinRefreshInterval time.Duration
	// MaxKeyAge bounds how long cached keys keep verifying while the JWKS
	// cannot be fetched: once the last successful fetch is older, tokens
	// get ErrUnavailable (503) instead of being checked against keys the
	// issuer may have revoked. 0 keeps them for ever.
	MaxKeyAge time.Duration
	// TokenCacheTTL is the longest a verified token is answered from the
	// cache (never past its exp; see JWKSValidator.Validate for what that
	// trades). 0 means DefaultTokenCacheTTL; negative disables the cache.
	TokenCacheTTL time.Duration
	// TokenCacheSize bounds the cache of verified tokens (least recently
	// used first out). 0 means DefaultTokenCacheSize.
	TokenCacheSize int
	// Metrics receives JWKS fetch counts; nil discards.
	Metrics Metrics
}

// withDefaults checks cfg and fills in defaults, reporting every problem.
func (cfg JWKSConfig) withDefaults() (JWKSConfig, error) {
	var errs []error
	if cfg.Issuer == "" {
		errs = append(errs, errors.New("issuer is required"))
	}
	switch {
	case cfg.JWKS != nil && cfg.JWKSURI != "":
		errs = append(errs, errors.New("jwks_uri and an inline JWKS are exclusive"))
	case cfg.JWKS == nil:
		if err := checkHTTPURL(cfg.JWKSURI); err != nil {
			errs = append(errs, fmt.Errorf("jwks_uri: %w", err))
		}
	}
	for _, a := range cfg.Algorithms {
		if _, ok := allowedAlgs[a]; !ok {
			errs = append(errs, fmt.Errorf("algorithm %q is not one of %s", a, strings.Join(Algorithms(), ", ")))
		}
	}
	if cfg.ClockSkew < 0 || cfg.MinRefreshInterval < 0 || cfg.MaxKeyAge < 0 || cfg.TokenCacheSize < 0 {
		errs = append(errs, errors.New("clock skew, min refresh interval, max key age and token cache size must not be negative"))
	}
	if len(errs) > 0 {
		return cfg, fmt.Errorf("iat: jwks config for %q: %w", cfg.Issuer, errors.Join(errs...))
	}
	if cfg.MinRefreshInterval == 0 {
		cfg.MinRefreshInterval = DefaultMinRefreshInterval
	}
	cfg.TokenCacheTTL = orDefault(cfg.TokenCacheTTL, DefaultTokenCacheTTL)
	if cfg.TokenCacheSize == 0 {
		cfg.TokenCacheSize = DefaultTokenCacheSize
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	cfg.Metrics = orDiscard(cfg.Metrics)
	return cfg, nil
}

func checkHTTPURL(s string) error {
	if s == "" {
		return errors.New("required")
	}
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return nil
}

// JWKSValidator validates JWT access tokens (RFC 9068) signed by one issuer
// with a key from its JWKS. Keys are cached by jwx's jwk.Cache, refreshed in
// the background on the schedule the JWKS response's Cache-Control or
// Expires asks for (at least every 15 minutes without them, jwx's default),
// and refetched on demand when a token names an unknown kid. Tokens that
// verified are cached for a short while (see Validate).
type JWKSValidator struct {
	issuer       string
	keys         keySource
	claimsOpts   []jwt.ParseOption
	algs         []string // nil: every allowed algorithm
	requireATJWT bool
	scopeClaim   string
	verified     *verdictCache // nil: disabled
	cacheTTL     time.Duration
}

// keySource finds the verification key a token names.
type keySource interface {
	key(ctx context.Context, kid string) (jwk.Key, error)
	// stale reports that the keys are past the configured maximum age, so
	// nothing they verified earlier may be relied on either.
	stale() bool
	close() error
}

// NewJWKSValidator starts a JWKS cache for cfg that lives until ctx is
// done or Close is called. It does not wait for the first fetch: the
// issuer may be down at start (or, in dev mode, be this very process, which
// listens only after construction). A failed fetch is logged as a warning
// and retried when the first token needs a key.
func NewJWKSValidator(ctx context.Context, cfg JWKSConfig, logger *slog.Logger) (*JWKSValidator, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.Default()
	}
	v := &JWKSValidator{issuer: cfg.Issuer, claimsOpts: claimsOptions(cfg), algs: cfg.Algorithms,
		requireATJWT: cfg.RequireATJWT, scopeClaim: cfg.ScopeClaim, cacheTTL: cfg.TokenCacheTTL}
	if cfg.TokenCacheTTL > 0 {
		v.verified = newVerdictCache(cfg.TokenCacheSize)
	}
	if cfg.JWKS != nil {
		v.keys = staticKeys{set: cfg.JWKS}
		return v, nil
	}
	if v.keys, err = newRemoteKeys(ctx, cfg, logger.With("issuer", cfg.Issuer, "jwks_uri", cfg.JWKSURI)); err != nil {
		return nil, err
	}
	return v, nil
}

// remoteKeys is a JWKS fetched over HTTP and cached.
type remoteKeys struct {
	cache   *jwk.Cache
	res     *httprc.ResourceBase[jwk.Set]
	stop    context.CancelFunc
	refresh *refresher
	maxAge  time.Duration
	// fetched is when the JWKS was last fetched successfully (Unix ns).
	fetched atomic.Int64
}

func newRemoteKeys(ctx context.Context, cfg JWKSConfig, logger *slog.Logger) (*remoteKeys, error) {
	r := &remoteKeys{maxAge: cfg.MaxKeyAge}
	cfg.HTTPClient = jwk.WrapHTTPClientDefaults(recordFetches(cfg.HTTPClient, func(ok bool) {
		if ok {
			r.fetched.Store(time.Now().UnixNano())
		}
		cfg.Metrics.JWKSFetch(cfg.Issuer, fetchResult(ok))
	}))
	ctx, stop := context.WithCancel(ctx)
	cache, res, err := startCache(ctx, cfg, logger)
	if err != nil {
		stop()
		return nil, err
	}
	r.cache, r.res, r.stop = cache, res, stop
	r.refresh = newRefresher(ctx, cfg.MinRefreshInterval, func(ctx context.Context) error {
		_, err := cache.Refresh(ctx, cfg.JWKSURI)
		if err != nil {
			logger.WarnContext(ctx, "iat: JWKS refetch failed", "err", err)
		}
		return err
	})
	return r, nil
}

// recordFetches wraps c's transport so that every JWKS response is
// reported: a 2xx as a successful fetch, anything else as a failure.
func recordFetches(c *http.Client, done func(ok bool)) *http.Client {
	wrapped := *c
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	wrapped.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := base.RoundTrip(req)
		done(err == nil && resp.StatusCode/100 == 2)
		return resp, err
	})
	return &wrapped
}

func fetchResult(ok bool) string {
	if ok {
		return "ok"
	}
	return "error"
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// startCache registers the JWKS URL with WithWaitReady(false), so Register
// returns at once while the cache's worker fetches in the background.
func startCache(ctx context.Context, cfg JWKSConfig, logger *slog.Logger) (*jwk.Cache, *httprc.ResourceBase[jwk.Set], error) {
	sink := errsink.NewFunc(func(ctx context.Context, err error) {
		logger.WarnContext(ctx, "iat: JWKS fetch failed", "err", err)
	})
	cache, err := jwk.NewCache(ctx, httprc.NewClient(httprc.WithWorkers(1), httprc.WithErrorSink(sink)))
	if err != nil {
		return nil, nil, fmt.Errorf("iat: start JWKS cache: %w", err)
	}
	err = cache.Register(ctx, cfg.JWKSURI, jwk.WithWaitReady(false), jwk.WithHTTPClient(cfg.HTTPClient))
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("iat: register JWKS: %w", err), cache.Shutdown(ctx))
	}
	// Looking the resource up once lets Validate read the cached set with an
	// atomic load instead of a round trip through the cache's goroutine.
	res, err := cache.LookupResource(ctx, cfg.JWKSURI)
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("iat: JWKS resource: %w", err), cache.Shutdown(ctx))
	}
	return cache, res, nil
}

// claimsOptions are the RFC 7519 §4.1 / RFC 9068 §4 checks: iss exact,
// exp required, exp/nbf/iat within the skew, aud when configured.
func claimsOptions(cfg JWKSConfig) []jwt.ParseOption {
	opts := []jwt.ParseOption{
		jwt.WithVerify(false), // the signature was verified over these bytes already
		jwt.WithValidate(true),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAcceptableSkew(cfg.ClockSkew),
	}
	if !cfg.ExpOptional {
		opts = append(opts, jwt.WithRequiredClaim("exp"))
	}
	if len(cfg.Audience) > 0 {
		opts = append(opts, jwt.WithValidator(audienceAnyOf(cfg.Audience)))
	}
	return opts
}

// Close stops the cache's goroutines and any running refetch.
func (v *JWKSValidator) Close() error { return v.keys.close() }

func (r *remoteKeys) close() error {
	r.stop()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultHTTPTimeout)
	defer cancel()
	return r.cache.Shutdown(ctx)
}

// Validate verifies token and returns its principal. Errors wrap
// ErrInvalidToken (the token is bad) or ErrUnavailable (no key could be
// fetched to judge it); their text never contains the token.
//
// A token that verified is remembered, by its SHA-256 and never itself,
// until the earlier of its exp and TokenCacheTTL, so a caller that
// registers several clients with one token pays for one signature check.
// What that trades, and what it does not:
//   - A key the issuer removes from its JWKS keeps vouching for tokens it
//     verified until their entries expire: at most TokenCacheTTL after the
//     fresh check that cached them (hits do not extend an entry). That is
//     the only new exposure: dcrgate never sees a single JWT revoked, with
//     or without the cache.
//   - Entries end at exp itself; the clock skew is not granted to them. A
//     token in the skew window after exp is verified afresh (and accepted
//     if it still verifies), so a cached answer is never accepted longer
//     than a fresh validation would be. nbf and iat only become easier to
//     meet as time passes, and every other check depends on the token's
//     bytes and this validator's configuration alone, which the key (the
//     whole token, signature included) pins.
//   - While the keys are past MaxKeyAge the cache is not consulted: the
//     token gets the fresh path's refetch or ErrUnavailable.
//   - Only successes are cached. A refusal or an unavailable JWKS is never
//     remembered, so a token that fails is judged afresh every time, and a
//     forged token costs no cache space.
//   - The Principal returned is the caller's own: slices and maps are
//     copied in and out of the cache (see Principal.clone).
func (v *JWKSValidator) Validate(ctx context.Context, token string) (Principal, error) {
	if v.verified == nil || len(token) > maxTokenBytes {
		return v.verify(ctx, token)
	}
	key := cacheKey(sha256.Sum256([]byte(token)))
	now := time.Now()
	if !v.keys.stale() {
		if vd, ok := v.verified.get(key, now); ok {
			return vd.principal, nil
		}
	}
	p, err := v.verify(ctx, token)
	if err != nil {
		return Principal{}, err
	}
	if until, ok := v.cacheUntil(p, now); ok {
		v.verified.put(key, verdict{principal: p, expires: until})
	}
	return p, nil
}

// cacheUntil is when a token verified at now leaves the cache: TokenCacheTTL
// later, or at its exp if that comes first. ok is false when there is
// nothing worth caching: exp has passed (the token was accepted within the
// skew) or could not be read as a NumericDate here.
func (v *JWKSValidator) cacheUntil(p Principal, now time.Time) (time.Time, bool) {
	until := now.Add(v.cacheTTL)
	exp, err := timeClaim(p.Claims, "exp")
	if err != nil {
		return time.Time{}, false
	}
	if !exp.IsZero() && exp.Before(until) {
		until = exp
	}
	return until, now.Before(until)
}

// verify is Validate without the cache: header, key, signature, claims.
func (v *JWKSValidator) verify(ctx context.Context, token string) (Principal, error) {
	hdr, err := v.header(token)
	if err != nil {
		return Principal{}, invalid(err)
	}
	key, err := v.keys.key(ctx, hdr.kid)
	if err != nil {
		return Principal{}, err
	}
	if err := checkKey(key, hdr.alg); err != nil {
		return Principal{}, invalid(fmt.Errorf("key %q: %w", hdr.kid, err))
	}
	payload, err := jws.VerifyCompactFast(key, []byte(token), hdr.alg)
	if err != nil {
		return Principal{}, invalid(fmt.Errorf("signature: %w", err))
	}
	p, err := v.claims(payload)
	if err != nil {
		return Principal{}, invalid(err)
	}
	if p.TokenID == "" {
		p.TokenID = TokenHash(token)
	}
	return p, nil
}

// header parses the JOSE header and applies this issuer's own rules on
// top of the general ones.
//
// It also refuses a token whose (unverified) "iss" is not this issuer
// before any key is looked up: no key of this issuer can make such a token
// acceptable (RFC 9068 §4 requires iss to match exactly), so neither a
// refetch nor an unreachable JWKS may decide its answer.
func (v *JWKSValidator) header(token string) (header, error) {
	hdr, err := parseHeader(token)
	if err != nil {
		return header{}, err
	}
	if iss, err := unverifiedIssuer(token); err != nil || iss != v.issuer {
		return header{}, fmt.Errorf("token is not from issuer %q: %w", v.issuer, orMismatch(iss, err))
	}
	if v.algs != nil && !slices.Contains(v.algs, hdr.alg.String()) {
		return header{}, fmt.Errorf("algorithm %s is not configured for this issuer", hdr.alg)
	}
	if v.requireATJWT && hdr.typ != typeATJWT {
		return header{}, fmt.Errorf("token type %q is not at+jwt, which this issuer requires (RFC 9068 §2.1)", hdr.typ)
	}
	return hdr, nil
}

// claims checks the verified payload and turns it into a Principal.
func (v *JWKSValidator) claims(payload []byte) (Principal, error) {
	// encoding/json would turn bytes that are not UTF-8 into U+FFFD, so
	// two different subjects could become one; JSON must be UTF-8
	// (RFC 8259 §8.1), so such claims are refused instead.
	if !utf8.Valid(payload) {
		return Principal{}, errors.New("claims are not UTF-8 (RFC 8259 §8.1)")
	}
	// Decoding into a map first also refuses any payload that is not a
	// JSON object, such as a nested JWS (RFC 7519 §5.2 "cty": "JWT"),
	// before jwt.Parse could unwrap it unverified.
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return Principal{}, fmt.Errorf("claims are not a JSON object: %w", err)
	}
	if _, err := jwt.Parse(payload, v.claimsOpts...); err != nil {
		return Principal{}, fmt.Errorf("claims: %w", err)
	}
	p, err := principalFromClaims(claims, v.scopeClaim)
	p.Method = MethodJWT
	return p, err
}

// key returns the key named kid: from the cached set if it is there, else
// after a refetch, which is how a key rollover at the issuer is picked up
// between scheduled refreshes. Keys older than the configured maximum age
// are not used until a fetch succeeds again.
//
// An unknown kid is the token's fault (ErrInvalidToken) only when a
// refetch this call waited for succeeded and the kid is still absent. When
// the refetch failed, or the rate limit does not allow one yet, the
// issuer's current keys are unknown: the kid may be a key it has just
// rolled over to (the rollover of OpenID Connect Core 1.0 §10.1.1, where
// a verifier meeting an unknown kid refetches the JWK Set), so the answer
// is ErrUnavailable (503, retry later), never a 401 that tells the holder
// of a good token that it is bad.
func (r *remoteKeys) key(ctx context.Context, kid string) (jwk.Key, error) {
	if r.stale() {
		err := r.refresh.do(ctx)
		if r.stale() {
			return nil, fmt.Errorf("%w: the JWKS has not been fetched for over %s: %w", ErrUnavailable, r.maxAge, orMissing(err))
		}
	}
	if k, ok := r.lookup(kid); ok {
		return k, nil
	}
	err := r.refresh.do(ctx)
	if k, ok := r.lookup(kid); ok {
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: no key %q: JWKS: %w", ErrUnavailable, kid, err)
	}
	return nil, invalid(fmt.Errorf("no key %q in the JWKS", kid))
}

func (r *remoteKeys) lookup(kid string) (jwk.Key, bool) {
	if set := r.res.Resource(); set != nil {
		return set.LookupKeyID(kid)
	}
	return nil, false
}

// stale reports whether cached keys have outlived MaxKeyAge.
func (r *remoteKeys) stale() bool {
	last := r.fetched.Load()
	return r.maxAge > 0 && last != 0 && time.Since(time.Unix(0, last)) > r.maxAge
}

// staticKeys is an inline JWKS: an unknown kid is simply not there.
type staticKeys struct{ set jwk.Set }

func (s staticKeys) key(_ context.Context, kid string) (jwk.Key, error) {
	if k, ok := s.set.LookupKeyID(kid); ok {
		return k, nil
	}
	return nil, invalid(fmt.Errorf("no key %q in the configured JWKS", kid))
}

func (staticKeys) stale() bool  { return false }
func (staticKeys) close() error { return nil }

// orMismatch is err, or else the issuer the token names instead.
func orMismatch(iss string, err error) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("it names %q", iss)
}

func invalid(err error) error {
	return fmt.Errorf("%w: %w", ErrInvalidToken, err)
}
