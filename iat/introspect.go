package iat

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Defaults for IntrospectionConfig.
const (
	// DefaultCacheTTL is the longest an active answer is reused; a token
	// revoked at the AS is accepted for at most this long after its last
	// introspection.
	DefaultCacheTTL = 2 * time.Minute
	// DefaultInactiveCacheTTL is how long "active": false is remembered:
	// long enough to absorb a client retrying a dead token, short enough
	// that a token which becomes valid (nbf) is not refused for long.
	DefaultInactiveCacheTTL = 10 * time.Second
	// maxIntrospectionBytes bounds the response read.
	maxIntrospectionBytes = 1 << 20
)

// IntrospectionConfig configures an IntrospectionValidator for one issuer.
type IntrospectionConfig struct {
	// Issuer names the authorization server. A response whose "iss" is set
	// must equal it; principals carry it either way.
	Issuer string
	// Endpoint is the RFC 7662 introspection endpoint.
	Endpoint string
	// Auth is how dcrgate authenticates to the endpoint (RFC 7662 §2.1).
	Auth ClientAuth
	// Audience, when set, must share a value with the response's "aud".
	Audience []string
	// ClockSkew is tolerated on exp and nbf. Exactly this much: 0 means
	// none, not a default (see JWKSConfig.ClockSkew).
	ClockSkew time.Duration
	// ScopeClaim names the member that carries scopes; default "scope".
	ScopeClaim string
	// Timeout bounds one introspection call, connection included, so a slow
	// AS makes a registration fail with 503, never hang. Default 5s.
	Timeout time.Duration
	// CacheTTL is the longest an active answer is reused (never past the
	// token's exp). Default DefaultCacheTTL.
	CacheTTL time.Duration
	// InactiveCacheTTL is how long a refusal is reused. Default
	// DefaultInactiveCacheTTL.
	InactiveCacheTTL time.Duration
	// CacheSize bounds the cache (least recently used answers go first).
	// Default DefaultCacheSize.
	CacheSize int
	// HTTPClient calls the endpoint; default a plain client with Timeout.
	HTTPClient *http.Client
	// Metrics receives latencies and cache lookups; nil discards.
	Metrics Metrics
}

func (cfg IntrospectionConfig) withDefaults() (IntrospectionConfig, error) {
	var errs []error
	if cfg.Issuer == "" {
		errs = append(errs, errors.New("issuer is required"))
	}
	if err := checkHTTPURL(cfg.Endpoint); err != nil {
		errs = append(errs, fmt.Errorf("introspection endpoint: %w", err))
	}
	if err := cfg.Auth.check(); err != nil {
		errs = append(errs, err)
	}
	if cfg.ClockSkew < 0 || cfg.Timeout < 0 || cfg.CacheTTL < 0 || cfg.InactiveCacheTTL < 0 || cfg.CacheSize < 0 {
		errs = append(errs, errors.New("clock skew, timeout, cache TTLs and cache size must not be negative"))
	}
	if len(errs) > 0 {
		return cfg, fmt.Errorf("iat: introspection config for %q: %w", cfg.Issuer, errors.Join(errs...))
	}
	cfg.Timeout = orDefault(cfg.Timeout, DefaultHTTPTimeout)
	cfg.CacheTTL = orDefault(cfg.CacheTTL, DefaultCacheTTL)
	cfg.InactiveCacheTTL = orDefault(cfg.InactiveCacheTTL, DefaultInactiveCacheTTL)
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: cfg.Timeout}
	}
	cfg.Metrics = orDiscard(cfg.Metrics)
	return cfg, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// IntrospectionValidator validates tokens by asking the issuer (RFC 7662).
// Answers are cached by the token's SHA-256, never the token, until the
// token expires or CacheTTL passes, whichever is first.
type IntrospectionValidator struct {
	cfg    IntrospectionConfig
	cache  *verdictCache
	logger *slog.Logger
}

// NewIntrospectionValidator checks cfg; it makes no call until a token
// arrives, so an AS that is down at start delays nothing.
func NewIntrospectionValidator(cfg IntrospectionConfig, logger *slog.Logger) (*IntrospectionValidator, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &IntrospectionValidator{cfg: cfg, cache: newVerdictCache(cfg.CacheSize),
		logger: logger.With("issuer", cfg.Issuer, "introspection_endpoint", cfg.Endpoint)}, nil
}

// Validate returns the principal of an active token. Errors wrap
// ErrInvalidToken (inactive, expired, foreign) or ErrUnavailable (the
// endpoint failed or was too slow); neither contains the token.
func (v *IntrospectionValidator) Validate(ctx context.Context, token string) (Principal, error) {
	if token == "" || len(token) > maxTokenBytes {
		return Principal{}, invalid(fmt.Errorf("token is %d bytes, not 1..%d", len(token), maxTokenBytes))
	}
	key := cacheKey(sha256.Sum256([]byte(token)))
	now := time.Now()
	if vd, ok := v.cache.get(key, now); ok {
		v.cfg.Metrics.CacheLookup(v.cfg.Issuer, true)
		return vd.principal, vd.err
	}
	v.cfg.Metrics.CacheLookup(v.cfg.Issuer, false)
	resp, err := v.introspect(ctx, token)
	if err != nil {
		return Principal{}, err
	}
	vd := v.judge(resp, token, now)
	v.cache.put(key, vd)
	return vd.principal, vd.err
}

// introspection is an endpoint's answer about one token.
type introspection struct {
	claims map[string]any
	// utf8 is false when the body held bytes that are not UTF-8, which
	// encoding/json has replaced by U+FFFD in claims.
	utf8 bool
}

// judge turns a response into a cacheable verdict.
func (v *IntrospectionValidator) judge(resp introspection, token string, now time.Time) verdict {
	refuse := func(err error) verdict {
		return verdict{err: invalid(err), expires: now.Add(v.cfg.InactiveCacheTTL)}
	}
	claims := resp.claims
	if active, _ := claims["active"].(bool); !active {
		return refuse(errors.New("the issuer says the token is not active"))
	}
	if !resp.utf8 {
		// Its claims cannot be kept as the issuer sent them (RFC 8259
		// §8.1: JSON is UTF-8), and U+FFFD could make two subjects one.
		return refuse(errors.New("the introspection response is not UTF-8"))
	}
	exp, err := v.checkTimes(claims, now)
	if err != nil {
		return refuse(err)
	}
	p, err := v.principal(claims, token)
	if err != nil {
		return refuse(err)
	}
	expires := now.Add(v.cfg.CacheTTL)
	if !exp.IsZero() && exp.Before(expires) {
		expires = exp
	}
	return verdict{principal: p, expires: expires}
}

// checkTimes applies exp and nbf when the response has them (RFC 7662
// §2.2 makes both optional), and returns exp (zero when absent). An AS
// should not call an expired token active, but its clock is not ours.
func (v *IntrospectionValidator) checkTimes(claims map[string]any, now time.Time) (time.Time, error) {
	exp, err := timeClaim(claims, "exp")
	if err != nil {
		return time.Time{}, err
	}
	if !exp.IsZero() && now.After(exp.Add(v.cfg.ClockSkew)) {
		return time.Time{}, fmt.Errorf("token expired at %s", exp.UTC().Format(time.RFC3339))
	}
	nbf, err := timeClaim(claims, "nbf")
	if err != nil {
		return time.Time{}, err
	}
	if !nbf.IsZero() && now.Add(v.cfg.ClockSkew).Before(nbf) {
		return time.Time{}, fmt.Errorf("token not valid before %s", nbf.UTC().Format(time.RFC3339))
	}
	return exp, nil
}

// principal checks who the token is from and for, then builds the
// principal. The token ID is the token's hash: an opaque token has no
// other stable name, and the hash reveals nothing.
func (v *IntrospectionValidator) principal(claims map[string]any, token string) (Principal, error) {
	if iss, err := stringClaim(claims, "iss"); err != nil || (iss != "" && iss != v.cfg.Issuer) {
		return Principal{}, fmt.Errorf("iss %q is not %q: %w", iss, v.cfg.Issuer, orMissing(err))
	}
	if use, _ := claims["token_use"].(string); use != "" && use != "access_token" {
		// ORY Hydra also introspects refresh tokens; they are not bearer
		// tokens for this endpoint.
		return Principal{}, fmt.Errorf("token_use %q is not access_token", use)
	}
	if len(v.cfg.Audience) > 0 {
		aud, err := audienceClaim(claims)
		if err != nil {
			return Principal{}, err
		}
		if err := checkAudience(aud, v.cfg.Audience); err != nil {
			return Principal{}, err
		}
	}
	p, err := principalFromClaims(claims, v.cfg.ScopeClaim)
	if err != nil {
		return Principal{}, err
	}
	p.Issuer, p.TokenID, p.Method = v.cfg.Issuer, TokenHash(token), MethodIntrospection
	return p, nil
}

// timeClaim reads a NumericDate (RFC 7519 §2) claim; zero when absent.
func timeClaim(claims map[string]any, name string) (time.Time, error) {
	switch n := claims[name].(type) {
	case nil:
		return time.Time{}, nil
	case float64:
		return time.Unix(int64(n), 0), nil
	default:
		return time.Time{}, fmt.Errorf("claim %s is %T, not a number", name, n)
	}
}

// introspect asks the endpoint about token (RFC 7662 §2.1) within the
// configured timeout. Every failure to get a well-formed answer means the
// token could not be judged: ErrUnavailable, never a refusal, so a caller
// with a good token is told to retry rather than that the token is bad.
func (v *IntrospectionValidator) introspect(ctx context.Context, token string) (introspection, error) {
	ctx, cancel := context.WithTimeout(ctx, v.cfg.Timeout)
	defer cancel()
	start := time.Now()
	resp, err := v.call(ctx, token)
	result := "ok"
	if err != nil {
		result = "error"
		v.logger.WarnContext(ctx, "iat: introspection failed", "err", err)
		err = fmt.Errorf("%w: introspection: %w", ErrUnavailable, err)
	}
	v.cfg.Metrics.Introspection(v.cfg.Issuer, result, time.Since(start))
	return resp, err
}

func (v *IntrospectionValidator) call(ctx context.Context, token string) (introspection, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.cfg.Endpoint, nil)
	if err != nil {
		return introspection{}, err
	}
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	if err := v.cfg.Auth.apply(req, form); err != nil {
		return introspection{}, err
	}
	body := form.Encode()
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return introspection{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// 401/403 mean dcrgate's own credentials are wrong: an operator's
		// problem, still not the caller's.
		return introspection{}, fmt.Errorf("endpoint answered %s", resp.Status)
	}
	return decodeIntrospection(io.LimitReader(resp.Body, maxIntrospectionBytes))
}

// decodeIntrospection reads a response body (RFC 7662 §2.2), a JSON
// object. Whether it was UTF-8 is kept for judge: that is a fault of one
// token's claims, not of the endpoint.
func decodeIntrospection(r io.Reader) (introspection, error) {
	body, err := io.ReadAll(r)
	if err != nil {
		return introspection{}, fmt.Errorf("read response: %w", err)
	}
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&claims); err != nil {
		return introspection{}, fmt.Errorf("response is not a JSON object: %w", err)
	}
	if claims == nil {
		return introspection{}, errors.New("response is null")
	}
	return introspection{claims: claims, utf8: utf8.Valid(body[:dec.InputOffset()])}, nil
}
