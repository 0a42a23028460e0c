package iat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
)

// ServerMetadata is what dcrgate reads from an authorization server's
// metadata document (RFC 8414 §2, OpenID Connect Discovery §3).
type ServerMetadata struct {
	Issuer                string `json:"issuer"`
	JWKSURI               string `json:"jwks_uri"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
}

// maxMetadataBytes bounds a metadata document.
const maxMetadataBytes = 1 << 20

// DiscoveryURLs are where the metadata of issuer is looked for, in order:
// RFC 8414 §3.1 (the well-known segment goes between host and path), then
// OpenID Connect Discovery §4 (appended to the issuer).
func DiscoveryURLs(issuer string) ([]string, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("issuer %q is not an absolute URL", issuer)
	}
	oauth := *u
	oauth.Path = "/.well-known/oauth-authorization-server" + strings.TrimSuffix(u.Path, "/")
	oauth.RawPath = ""
	return []string{oauth.String(), strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"}, nil
}

// Discover fetches issuer's metadata from the first well-known URL that
// answers, and checks that it names issuer exactly (RFC 8414 §3.3: a
// mismatch may be an attack) and has a usable jwks_uri.
func Discover(ctx context.Context, client *http.Client, issuer string) (ServerMetadata, error) {
	urls, err := DiscoveryURLs(issuer)
	if err != nil {
		return ServerMetadata{}, err
	}
	var errs []error
	for _, u := range urls {
		md, err := fetchMetadata(ctx, client, u)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", u, err))
			continue
		}
		if md.Issuer != issuer {
			return ServerMetadata{}, fmt.Errorf("%s names issuer %q, not %q", u, md.Issuer, issuer)
		}
		if err := checkHTTPURL(md.JWKSURI); err != nil {
			return ServerMetadata{}, fmt.Errorf("%s: jwks_uri: %w", u, err)
		}
		return md, nil
	}
	return ServerMetadata{}, fmt.Errorf("iat: discovery for %q: %w", issuer, errors.Join(errs...))
}

func fetchMetadata(ctx context.Context, client *http.Client, u string) (ServerMetadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return ServerMetadata{}, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return ServerMetadata{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ServerMetadata{}, fmt.Errorf("answered %s", resp.Status)
	}
	var md ServerMetadata
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxMetadataBytes)).Decode(&md); err != nil {
		return ServerMetadata{}, fmt.Errorf("not a metadata document: %w", err)
	}
	return md, nil
}

// DiscoveryValidator is a JWKSValidator whose jwks_uri comes from the
// issuer's metadata. Discovery is tried at start in the background and,
// until it succeeds, again when a token arrives (one attempt at a time,
// after a short backoff following a failure; see refresher), so an AS that
// is down at start costs 503s until it is back, never a failed start, and
// not a moment longer.
type DiscoveryValidator struct {
	cfg     JWKSConfig
	base    context.Context
	stop    context.CancelFunc
	refresh *refresher
	v       atomic.Pointer[JWKSValidator]
}

// NewDiscoveryValidator checks cfg (whose JWKSURI must be empty) and
// starts discovery without waiting for it.
func NewDiscoveryValidator(ctx context.Context, cfg JWKSConfig, logger *slog.Logger) (*DiscoveryValidator, error) {
	if cfg.JWKSURI != "" || cfg.JWKS != nil {
		return nil, fmt.Errorf("iat: discovery for %q: the JWKS must not be configured too", cfg.Issuer)
	}
	probe := cfg
	probe.JWKSURI = cfg.Issuer // the issuer must be an http(s) URL too
	full, err := probe.withDefaults()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.Default()
	}
	logger = logger.With("issuer", cfg.Issuer)
	ctx, stop := context.WithCancel(ctx)
	d := &DiscoveryValidator{cfg: cfg, base: ctx, stop: stop}
	d.refresh = newRefresher(ctx, full.MinRefreshInterval, func(fctx context.Context) error {
		err := d.discover(fctx, full.HTTPClient, logger)
		if err != nil {
			logger.WarnContext(fctx, "iat: discovery failed; retrying when a token arrives", "err", err)
		}
		return err
	})
	go func() { _ = d.refresh.do(ctx) }()
	return d, nil
}

func (d *DiscoveryValidator) discover(ctx context.Context, client *http.Client, logger *slog.Logger) error {
	md, err := Discover(ctx, client, d.cfg.Issuer)
	if err != nil {
		return err
	}
	cfg := d.cfg
	cfg.JWKSURI = md.JWKSURI
	v, err := NewJWKSValidator(d.base, cfg, logger)
	if err != nil {
		return err
	}
	if !d.v.CompareAndSwap(nil, v) {
		return v.Close()
	}
	logger.InfoContext(ctx, "iat: discovered", "jwks_uri", md.JWKSURI)
	return nil
}

// Validate verifies token once the JWKS is known; until then it is
// ErrUnavailable.
func (d *DiscoveryValidator) Validate(ctx context.Context, token string) (Principal, error) {
	if v := d.v.Load(); v != nil {
		return v.Validate(ctx, token)
	}
	err := d.refresh.do(ctx)
	if v := d.v.Load(); v != nil {
		return v.Validate(ctx, token)
	}
	return Principal{}, fmt.Errorf("%w: metadata not discovered yet: %w", ErrUnavailable, orMissing(err))
}

// Close stops discovery and the discovered validator.
func (d *DiscoveryValidator) Close() error {
	d.stop()
	if v := d.v.Load(); v != nil {
		return v.Close()
	}
	return nil
}
