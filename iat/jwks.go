package iat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/httprc/v3/errsink"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Defaults for JWKSConfig.
const (
	DefaultClockSkew          = 30 * time.Second
	DefaultMinRefreshInterval = 30 * time.Second
	DefaultHTTPTimeout        = 5 * time.Second
	// refreshTimeout bounds one on-demand JWKS refetch, including the wait
	// for the cache's worker; callers stop waiting when their context ends.
	refreshTimeout = 10 * time.Second
)

// JWKSConfig configures a JWKSValidator for one issuer.
type JWKSConfig struct {
	// Issuer is required and must equal the token's "iss" exactly
	// (RFC 9068 §4, RFC 8414 §2).
	Issuer string
	// JWKSURI is the issuer's JWK Set (RFC 7517 §5); required.
	JWKSURI string
	// Audience, when set, is the list of names the gateway answers to;
	// the token's "aud" must contain one of them (RFC 9068 §4).
	Audience []string
	// ClockSkew is tolerated on exp, nbf and iat. Default 30s.
	ClockSkew time.Duration
	// HTTPClient fetches the JWKS. Default: a client with a 5s timeout.
	// Either way jwx's redirect hardening is added.
	HTTPClient *http.Client
	// MinRefreshInterval is the least time between two refetches caused by
	// a kid that is not in the cached set, so forged kids cannot make the
	// gateway hammer the issuer. Default 30s.
	MinRefreshInterval time.Duration
}

// withDefaults checks cfg and fills in defaults, reporting every problem.
func (cfg JWKSConfig) withDefaults() (JWKSConfig, error) {
	var errs []error
	if cfg.Issuer == "" {
		errs = append(errs, errors.New("issuer is required"))
	}
	if err := checkHTTPURL(cfg.JWKSURI); err != nil {
		errs = append(errs, fmt.Errorf("jwks_uri: %w", err))
	}
	if cfg.ClockSkew < 0 || cfg.MinRefreshInterval < 0 {
		errs = append(errs, errors.New("clock skew and min refresh interval must not be negative"))
	}
	if len(errs) > 0 {
		return cfg, fmt.Errorf("iat: jwks config for %q: %w", cfg.Issuer, errors.Join(errs...))
	}
	if cfg.ClockSkew == 0 {
		cfg.ClockSkew = DefaultClockSkew
	}
	if cfg.MinRefreshInterval == 0 {
		cfg.MinRefreshInterval = DefaultMinRefreshInterval
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	cfg.HTTPClient = jwk.WrapHTTPClientDefaults(cfg.HTTPClient)
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
// and refetched on demand when a token names an unknown kid.
type JWKSValidator struct {
	cache      *jwk.Cache
	res        *httprc.ResourceBase[jwk.Set]
	stop       context.CancelFunc
	claimsOpts []jwt.ParseOption
	refresh    *refresher
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
	logger = logger.With("issuer", cfg.Issuer, "jwks_uri", cfg.JWKSURI)
	ctx, stop := context.WithCancel(ctx)
	cache, res, err := startCache(ctx, cfg, logger)
	if err != nil {
		stop()
		return nil, err
	}
	v := &JWKSValidator{cache: cache, res: res, stop: stop, claimsOpts: claimsOptions(cfg)}
	v.refresh = newRefresher(ctx, cfg.MinRefreshInterval, func(ctx context.Context) error {
		_, err := cache.Refresh(ctx, cfg.JWKSURI)
		if err != nil {
			logger.WarnContext(ctx, "iat: JWKS refetch failed", "err", err)
		}
		return err
	})
	return v, nil
}

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
		jwt.WithRequiredClaim("exp"),
		jwt.WithAcceptableSkew(cfg.ClockSkew),
	}
	if len(cfg.Audience) > 0 {
		opts = append(opts, jwt.WithValidator(audienceAnyOf(cfg.Audience)))
	}
	return opts
}

// Close stops the cache's goroutines and any running refetch.
func (v *JWKSValidator) Close() error {
	v.stop()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultHTTPTimeout)
	defer cancel()
	return v.cache.Shutdown(ctx)
}

// Validate verifies token and returns its principal. Errors wrap
// ErrInvalidToken (the token is bad) or ErrUnavailable (no key could be
// fetched to judge it); their text never contains the token.
func (v *JWKSValidator) Validate(ctx context.Context, token string) (Principal, error) {
	hdr, err := parseHeader(token)
	if err != nil {
		return Principal{}, invalid(err)
	}
	key, err := v.key(ctx, hdr.kid)
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
	return p, nil
}

// claims checks the verified payload and turns it into a Principal.
func (v *JWKSValidator) claims(payload []byte) (Principal, error) {
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
	return principalFromClaims(claims)
}

// key returns the key named kid: from the cached set if it is there, else
// after a (rate-limited) refetch, which is how a key rollover at the
// issuer is picked up between scheduled refreshes.
func (v *JWKSValidator) key(ctx context.Context, kid string) (jwk.Key, error) {
	if set := v.res.Resource(); set != nil {
		if k, ok := set.LookupKeyID(kid); ok {
			return k, nil
		}
	}
	err := v.refresh.do(ctx)
	if set := v.res.Resource(); set != nil {
		if k, ok := set.LookupKeyID(kid); ok {
			return k, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: no key %q: JWKS: %w", ErrUnavailable, kid, err)
	}
	return nil, invalid(fmt.Errorf("no key %q in the JWKS", kid))
}

func invalid(err error) error {
	return fmt.Errorf("%w: %w", ErrInvalidToken, err)
}
