// Package registration holds dcrgate's use cases: register a client (RFC 7591)
// and read, update or delete it (RFC 7592), under PingFederate's management
// options. It knows nothing of HTTP or LDAP: callers hand it the bearer token
// and the raw body, and it answers with a Registration or an *oauth.Error.
package registration

import (
	"context"
	"log/slog"
	"time"

	"github.com/dcrgate/dcrgate/audit"
	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/iat"
	"github.com/dcrgate/dcrgate/policies"
	"github.com/dcrgate/dcrgate/store"
)

// Options are the registration and management settings, named as on
// PingFederate's Dynamic Client Registration page.
type Options struct {
	// RequireInitialAccessToken is "Require Initial Access Token".
	RequireInitialAccessToken bool
	// RequiredScopes is the required scope or scope group (any one suffices).
	RequiredScopes []string
	// IssuerScopes overrides RequiredScopes for tokens of the named issuers.
	IssuerScopes map[string][]string
	// MaxRegistrationsPerToken caps the clients one initial access token
	// registers; 0 = no cap.
	MaxRegistrationsPerToken int
	// Statements verifies software statements; nil refuses them all.
	Statements StatementVerifier
	// Management is "Enable Dynamic Client Registration Management".
	Management Management
	// Metadata configures client metadata decoding and validation.
	Metadata client.Options
	// ClientURI builds the registration_client_uri for a client ID.
	ClientURI func(clientID string) string
	// Anonymous is the profile of registrations without an initial access
	// token; off, they need one (or, with RequireInitialAccessToken off,
	// are judged like any other).
	Anonymous Anonymous
	// RateLimits bound how often one caller may register or manage.
	RateLimits RateLimits
	// ClientLifetime is how long a client lives unless renewed by a read or
	// an update through RFC 7592; 0 = for ever. An expired client is
	// answered as an unknown one and removed by the reaper.
	ClientLifetime time.Duration
	// ClientSecretLifetime is how long a client secret is valid
	// (client_secret_expires_at); 0 = for ever. The next read or update
	// after it issues a new one; the reaper removes it from the directory.
	ClientSecretLifetime time.Duration
	// Fetcher gets the documents clients name by URL: it verifies
	// sector_identifier_uri and fetches metadata documents; nil = neither.
	Fetcher DocumentFetcher
	// MetadataDocuments configures Client ID Metadata Documents.
	MetadataDocuments MetadataDocuments
	// RequestTimeout bounds each use case as a whole, token check and every
	// directory round trip included, so that no caller waits on a stalled
	// directory for longer than this plus the time to answer; 0 = none.
	RequestTimeout time.Duration
}

// Management holds the RFC 7592 options.
type Management struct {
	Enabled                       bool
	RotateClientSecret            bool
	RotateRegistrationAccessToken bool
	AllowClientDelete             bool
	RetainClientSecret            bool
	ClientSecretRetentionPeriod   time.Duration
	// RotationGracePeriod is how long a rotated registration access token,
	// and for confidential clients the rotated secret, stay accepted, so
	// that an answer lost on its way (a directory stall, a dropped
	// connection) never locks a client out. The previous token stops
	// working as soon as the new one is first used; 0 = at once.
	RotationGracePeriod time.Duration
}

// Service runs the use cases against a store.
type Service struct {
	store    store.Store
	tokens   iat.Validator
	hasher   credentials.Hasher
	policies policies.Policy
	opts     Options
	now      func() time.Time
	logger   *slog.Logger
	orphans  *orphans
	audit    audit.Recorder
	limits   limiters
}

// Option customises a Service.
type Option func(*Service)

// WithClock replaces time.Now, for tests of expiry and retention.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.logger = l } }

// WithPolicy sets the registration policy chain run on register and update.
func WithPolicy(p policies.Policy) Option { return func(s *Service) { s.policies = p } }

// New returns a Service. tokens may be nil when no issuer is configured;
// then registration needs RequireInitialAccessToken off.
func New(st store.Store, tokens iat.Validator, hasher credentials.Hasher, opts Options, options ...Option) *Service {
	s := &Service{
		store:    st,
		tokens:   tokens,
		hasher:   hasher,
		opts:     opts,
		now:      time.Now,
		logger:   slog.New(slog.DiscardHandler),
		policies: policies.Chain(nil),
		audit:    audit.Discard,
	}
	for _, o := range options {
		o(s)
	}
	s.orphans = newOrphans(st, s.logger, opts.RequestTimeout)
	s.limits = newLimiters(opts.RateLimits, func() time.Time { return s.now() })
	return s
}

// Close stops the background removal of registrations answered with an
// error (see orphans); those still pending are logged.
func (s *Service) Close() { s.orphans.close() }

// bounded gives one use case its deadline (Options.RequestTimeout), shared
// by every stage: token validation, each directory round trip, retries.
func (s *Service) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.opts.RequestTimeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, s.opts.RequestTimeout)
}

// Registration is a client as answered to its developer: the RFC 7591 §3.2.1
// client information response, which RFC 7592 §3 reuses. Clear-text secrets
// appear only in the response of the call that issued them.
type Registration struct {
	ClientID         string
	ClientIDIssuedAt time.Time
	// ClientSecret is set only when this call issued a new secret.
	ClientSecret string
	// Confidential clients report client_secret_expires_at (zero = never).
	Confidential          bool
	ClientSecretExpiresAt time.Time
	// RegistrationAccessToken is set only when this call issued a new one.
	RegistrationAccessToken string
	// RegistrationClientURI is set when management is enabled.
	RegistrationClientURI string
	Metadata              client.Metadata
	// AwaitingApproval is set for a client an approval policy holds: it is
	// stored disabled until an administrator enables it.
	AwaitingApproval bool
}

// Operation names a use case for policies, logs and metrics.
type Operation string

// The operations.
const (
	OpRegister Operation = "register"
	OpRead     Operation = "read"
	OpUpdate   Operation = "update"
	OpDelete   Operation = "delete"
)
