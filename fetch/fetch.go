// Package fetch gets the small JSON documents a client names by URL — its
// Client ID Metadata Document, its sector_identifier_uri array — without
// letting that client aim dcrgate at the network it runs in. The URL comes
// from whoever registers, so every connection is checked where it is made
// (net.Dialer.Control, after DNS resolution, so a name that resolves to
// 127.0.0.1 or to the cloud metadata address is refused as the address
// itself would be): only https, only port 443, never a loopback, private,
// link-local or other special-purpose address (code.dny.dev/ssrf keeps
// that list from IANA's registries), never a proxy, never a redirect, a
// bounded time and size.
package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"code.dny.dev/ssrf"
)

// Defaults for an empty Config.
const (
	DefaultTimeout  = 5 * time.Second
	DefaultMaxBytes = 5 << 10
)

// ErrFetch is wrapped by every error of Fetcher.JSON: the document could
// not be had, for the reason the message gives (safe to show the client
// that named the URL; it names no internal address).
var ErrFetch = errors.New("fetch")

// Config bounds what a Fetcher may reach.
type Config struct {
	// Timeout bounds one fetch as a whole: resolution, connection, TLS,
	// headers and body.
	Timeout time.Duration
	// MaxBytes bounds the body; a longer document is refused, not cut.
	MaxBytes int64
	// AllowedNetworks are exempt from the refusal of special-purpose
	// addresses, on any port: for documents served inside the company
	// (and for tests on loopback). Empty: the public internet only.
	AllowedNetworks []netip.Prefix
	// RootCAs verify servers' certificates; nil = the system's.
	RootCAs *x509.CertPool
	// UserAgent names dcrgate to the servers it fetches from.
	UserAgent string
}

// Fetcher gets documents under one Config; safe for concurrent use.
type Fetcher struct {
	client    *http.Client
	maxBytes  int64
	userAgent string
}

// Document is a fetched body and how long its server lets it be cached.
type Document struct {
	Body []byte
	// MaxAge is Cache-Control's max-age; 0 with no-store or no-cache.
	MaxAge time.Duration
	// HasMaxAge reports whether the server said anything about caching.
	HasMaxAge bool
}

// New returns a Fetcher for cfg.
func New(cfg Config) *Fetcher {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout, Control: guard(cfg.AllowedNetworks)}
	transport := &http.Transport{
		Proxy:                  nil, // a proxy would make the guard check the proxy, not the server
		DialContext:            dialer.DialContext,
		TLSClientConfig:        &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    cfg.Timeout,
		ResponseHeaderTimeout:  cfg.Timeout,
		MaxResponseHeaderBytes: 16 << 10,
		MaxIdleConns:           16,
		IdleConnTimeout:        30 * time.Second,
		ForceAttemptHTTP2:      true,
	}
	return &Fetcher{
		client: &http.Client{Transport: transport, Timeout: cfg.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		maxBytes:  cfg.MaxBytes,
		userAgent: cfg.UserAgent,
	}
}

// guard is the dialer's check of every address it connects to: the
// allowed networks on any port, else a public address on port 443.
func guard(allowed []netip.Prefix) func(network, address string, c syscall.RawConn) error {
	public := ssrf.New(ssrf.WithPorts(443))
	return func(network, address string, c syscall.RawConn) error {
		if ap, err := netip.ParseAddrPort(address); err == nil && contains(allowed, ap.Addr().Unmap()) {
			return nil
		}
		if err := public.Safe(network, address, c); err != nil {
			return fmt.Errorf("%w: the address is not allowed", err)
		}
		return nil
	}
}

func contains(prefixes []netip.Prefix, addr netip.Addr) bool {
	return slices.ContainsFunc(prefixes, func(p netip.Prefix) bool { return p.Contains(addr) })
}

// JSON fetches rawURL, which must be an https URL, and returns its body if
// the server answered 200 with a JSON media type (application/json or any
// +json) within the size limit.
func (f *Fetcher) JSON(ctx context.Context, rawURL string) (Document, error) {
	if err := checkURL(rawURL); err != nil {
		return Document{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return Document{}, fmt.Errorf("%w: %v", ErrFetch, err)
	}
	req.Header.Set("Accept", "application/json")
	if f.userAgent != "" {
		req.Header.Set("User-Agent", f.userAgent)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return Document{}, fmt.Errorf("%w: %s", ErrFetch, reason(err))
	}
	defer func() { _ = resp.Body.Close() }()
	if err := checkResponse(resp); err != nil {
		return Document{}, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return Document{}, fmt.Errorf("%w: reading the document: %s", ErrFetch, reason(err))
	}
	if int64(len(body)) > f.maxBytes {
		return Document{}, fmt.Errorf("%w: the document is larger than %d bytes", ErrFetch, f.maxBytes)
	}
	doc := Document{Body: body}
	doc.MaxAge, doc.HasMaxAge = maxAge(resp.Header.Values("Cache-Control"))
	return doc, nil
}

// checkURL refuses what is not an absolute https URL with a host and no
// user information, before anything is resolved.
func checkURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	switch {
	case err != nil:
		return fmt.Errorf("%w: not a URL", ErrFetch)
	case u.Scheme != "https":
		return fmt.Errorf("%w: only https URLs are fetched", ErrFetch)
	case u.Hostname() == "" || u.User != nil:
		return fmt.Errorf("%w: the URL needs a host and no user information", ErrFetch)
	}
	return nil
}

// checkResponse accepts 200 with a JSON media type; a redirect is refused,
// since following it would let any server send dcrgate anywhere.
func checkResponse(resp *http.Response) error {
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return fmt.Errorf("%w: the server redirected (status %d); redirects are not followed", ErrFetch, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("%w: the server answered status %d", ErrFetch, resp.StatusCode)
	}
	media, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || (media != "application/json" && !strings.HasSuffix(media, "+json")) {
		return fmt.Errorf("%w: the document's content type is not JSON", ErrFetch)
	}
	return nil
}

// maxAge reads Cache-Control (RFC 9111 §5.2.2): max-age, or zero for
// no-store and no-cache, which win over it.
func maxAge(values []string) (time.Duration, bool) {
	var age time.Duration
	found := false
	for _, v := range values {
		for _, d := range strings.Split(v, ",") {
			name, arg, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(name) {
			case "no-store", "no-cache":
				return 0, true
			case "max-age":
				if n, err := strconv.ParseInt(strings.Trim(arg, `"`), 10, 64); err == nil && n >= 0 {
					age, found = time.Duration(min(n, int64(365*24*3600)))*time.Second, true
				}
			}
		}
	}
	return age, found
}

// reason is what the registering client may be told of a transport error:
// the guard's refusal or a timeout, not the addresses it resolved to.
func reason(err error) string {
	var netErr net.Error
	switch {
	case errors.Is(err, ssrf.ErrProhibitedIP), errors.Is(err, ssrf.ErrProhibitedPort), errors.Is(err, ssrf.ErrProhibitedNetwork):
		return "the server's address is not one dcrgate may connect to (only public addresses on port 443)"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "the server did not answer in time"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "the request ran out of time"
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return "the server's certificate is not trusted"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "the server's name does not resolve"
	}
	return "the server could not be reached"
}
