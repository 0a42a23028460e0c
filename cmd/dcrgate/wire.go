package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dcrgate/dcrgate/api"
	"github.com/dcrgate/dcrgate/audit"
	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/config"
	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/fetch"
	"github.com/dcrgate/dcrgate/iat"
	"github.com/dcrgate/dcrgate/metrics"
	"github.com/dcrgate/dcrgate/ratelimit"
	"github.com/dcrgate/dcrgate/registration"
	"github.com/dcrgate/dcrgate/store"
)

// realm names the protection space in WWW-Authenticate challenges.
const realm = "dcrgate"

// gateway is a wired dcrgate: the API engine and the telemetry handler over
// one store.
type gateway struct {
	engine     *gin.Engine
	telemetry  http.Handler
	svc        *registration.Service
	reaped     *metrics.Reaper
	closeAudit func()
}

// close ends the gateway's background work, then its audit trail.
func (g *gateway) close() {
	g.svc.Close()
	g.closeAudit()
}

// newGateway wires the registration service and its HTTP faces.
// reg is the registry every component reports to; /metrics serves it.
func newGateway(cfg config.Config, st store.Store, tokens iat.Validator, secretScheme string, reg *prometheus.Registry, logger *slog.Logger) (*gateway, error) {
	hasher, err := credentials.NewHasher(secretScheme)
	if err != nil {
		return nil, err
	}
	chain, err := buildPolicies(cfg.Policies, st)
	if err != nil {
		return nil, err
	}
	instrumentTokens(tokens, reg)
	opts, err := serviceOptions(cfg, logger)
	if err != nil {
		return nil, err
	}
	trail, closeAudit, err := openAudit(cfg.Audit)
	if err != nil {
		return nil, err
	}
	recorder := audit.Recorders{trail, metrics.NewOperations(reg)}
	svc := registration.New(st, tokens, hasher, opts, registration.WithLogger(logger), registration.WithPolicy(chain),
		registration.WithAudit(recorder))
	engine := api.NewRouter(api.Config{
		Path:                  cfg.Registration.Path,
		RegistrationEnabled:   cfg.Registration.Enabled,
		ManagementEnabled:     cfg.Management.Enabled,
		MaxBodyBytes:          cfg.Registration.MaxBodyBytes,
		Realm:                 realm,
		TrustedProxies:        cfg.TrustedProxies,
		AllowedOrigins:        cfg.CORS.AllowedOrigins,
		AnonymousRegistration: cfg.Registration.Anonymous.Enabled,
		MetadataDocuments:     cfg.MetadataDocuments.Enabled,
	}, svc, metrics.New(reg), logger)
	ver, revision := buildVersion()
	metrics.NewBuildInfo(reg, ver, revision)
	return &gateway{engine: engine, telemetry: telemetryHandler(reg, st), svc: svc,
		reaped: metrics.NewReaper(reg, reasonLabels()), closeAudit: closeAudit}, nil
}

// newRegistry is the process's metrics registry (never the global one), with
// the Go runtime and process collectors.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// serviceOptions maps the configuration onto the registration use cases.
// Software statement issuers' key caches live as long as the process.
func serviceOptions(cfg config.Config, logger *slog.Logger) (registration.Options, error) {
	m := cfg.Management
	base := strings.TrimRight(cfg.ExternalURL, "/") + cfg.Registration.Path + "/"
	statements, err := statementVerifier(cfg.SoftwareStatements, logger)
	if err != nil {
		return registration.Options{}, err
	}
	fetcher, err := documentFetcher(cfg.Fetch)
	if err != nil {
		return registration.Options{}, err
	}
	return registration.Options{
		RequireInitialAccessToken: cfg.Registration.RequireInitialAccessToken,
		RequiredScopes:            cfg.Registration.RequiredScopes,
		IssuerScopes:              issuerScopes(cfg.InitialAccessTokens.Issuers),
		MaxRegistrationsPerToken:  cfg.InitialAccessTokens.MaxRegistrationsPerToken,
		Statements:                statements,
		Management: registration.Management{
			Enabled:                       m.Enabled,
			RotateClientSecret:            m.RotateClientSecret,
			RotateRegistrationAccessToken: m.RotateRegistrationAccessToken,
			AllowClientDelete:             m.AllowClientDelete,
			RetainClientSecret:            m.RetainClientSecret,
			ClientSecretRetentionPeriod:   m.ClientSecretRetentionPeriod,
			RotationGracePeriod:           m.RotationGracePeriod,
		},
		Metadata:             metadataOptions(cfg.Registration),
		ClientURI:            func(id string) string { return base + id },
		RequestTimeout:       cfg.LDAP.Timeout,
		ClientLifetime:       cfg.Registration.ClientLifetime,
		ClientSecretLifetime: cfg.Registration.ClientSecretLifetime,
		Anonymous: registration.Anonymous{Enabled: cfg.Registration.Anonymous.Enabled,
			ClientLifetime: cfg.Registration.Anonymous.ClientLifetime, WebRedirectHosts: cfg.Registration.Anonymous.WebRedirectHosts},
		RateLimits:        rateLimits(cfg.RateLimits),
		Fetcher:           fetcher,
		MetadataDocuments: metadataDocuments(cfg.MetadataDocuments),
	}, nil
}

// metadataDocuments maps the metadata_documents section.
func metadataDocuments(m config.MetadataDocuments) registration.MetadataDocuments {
	return registration.MetadataDocuments{Enabled: m.Enabled, MinCache: m.MinCache, MaxCache: m.MaxCache,
		AllowedHosts: m.AllowedHosts, DeniedHosts: m.DeniedHosts}
}

// documentFetcher is the guarded fetcher of the documents clients name by
// URL, trusting fetch.ca_file besides the system's roots.
func documentFetcher(f config.Fetch) (*fetch.Fetcher, error) {
	cfg := fetch.Config{Timeout: f.Timeout, MaxBytes: f.MaxBytes, UserAgent: userAgent()}
	for _, n := range f.AllowedNetworks {
		p, err := config.ParseNetwork(n)
		if err != nil {
			return nil, keyError{"allowed_networks", err}
		}
		cfg.AllowedNetworks = append(cfg.AllowedNetworks, p)
	}
	if f.CAFile != "" {
		pool, err := certPool(f.CAFile)
		if err != nil {
			return nil, keyError{"ca_file", err}
		}
		cfg.RootCAs = pool
	}
	return fetch.New(cfg), nil
}

// userAgent names this build to the servers dcrgate fetches from.
func userAgent() string {
	ver, _ := buildVersion()
	return "dcrgate/" + ver
}

// certPool is the system's roots plus the PEM certificates in file.
func certPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}

// rateLimits maps the configured limits onto the registration use cases'.
func rateLimits(r config.RateLimits) registration.RateLimits {
	limit := func(l config.RateLimit) ratelimit.Limit {
		return ratelimit.Limit{PerMinute: float64(l.PerMinute), Burst: l.Burst}
	}
	return registration.RateLimits{RegistrationPerIP: limit(r.RegistrationPerIP), AnonymousPerIP: limit(r.AnonymousPerIP),
		RegistrationPerOwner: limit(r.RegistrationPerOwner), ManagementPerIP: limit(r.ManagementPerIP)}
}

// issuerScopes are the per-issuer overrides of registration.required_scopes.
func issuerScopes(issuers []config.Issuer) map[string][]string {
	out := map[string][]string{}
	for _, is := range issuers {
		if len(is.RequiredScopes) > 0 {
			out[is.Issuer] = is.RequiredScopes
		}
	}
	return out
}

// statementVerifier is nil (every statement refused) without trusted issuers.
func statementVerifier(s config.SoftwareStatements, logger *slog.Logger) (registration.StatementVerifier, error) {
	if len(s.TrustedIssuers) == 0 {
		return nil, nil
	}
	var issuers []iat.StatementIssuer
	for _, is := range s.TrustedIssuers {
		si, err := statementIssuer(is)
		if err != nil {
			return nil, fmt.Errorf("software statement issuer %s: %w", is.Issuer, err)
		}
		issuers = append(issuers, si)
	}
	return iat.NewStatementVerifier(context.Background(), issuers, logger)
}

// statementIssuer maps one trusted signer of software statements, parsing
// its inline JWKS and its defaults. config check runs it too (startup.go).
func statementIssuer(is config.StatementIssuer) (iat.StatementIssuer, error) {
	si := iat.StatementIssuer{JWKSConfig: iat.JWKSConfig{Issuer: is.Issuer, JWKSURI: is.JWKSURI,
		Algorithms: is.Algorithms, ClockSkew: is.ClockSkew}, Scopes: is.Scopes}
	var err error
	if is.JWKS != "" {
		if si.JWKS, err = jwk.Parse([]byte(is.JWKS)); err != nil {
			return si, keyError{"jwks", err}
		}
	}
	if len(is.Defaults) > 0 {
		if si.Defaults, err = json.Marshal(is.Defaults); err != nil {
			return si, keyError{"defaults", err}
		}
	}
	return si, nil
}

func metadataOptions(r config.Registration) client.Options {
	opts := client.Options{MaxRedirectURIs: r.MaxRedirectURIs, MaxValueLength: r.MaxValueLength}
	for _, p := range r.ExtendedMetadata {
		opts.Extensions = append(opts.Extensions, client.Extension{Name: p.Name, Type: p.Type, Required: p.Required})
	}
	return opts
}

// tokenValidator builds the validators of every configured issuer behind
// one iat.Router (see it for the routing rule). It returns nil when no
// issuer is configured. Their metrics reach the registry once
// instrumentTokens has run.
func tokenValidator(ctx context.Context, issuers []config.Issuer, logger *slog.Logger) (iat.Validator, func(), error) {
	tb := tokenBuilder{ctx: ctx, logger: logger, sink: &iat.MetricsSink{}}
	for _, is := range issuers {
		if err := tb.add(is); err != nil {
			tb.closeAll()
			return nil, nil, fmt.Errorf("issuer %s: %w", is.Issuer, err)
		}
	}
	if len(issuers) == 0 {
		return nil, tb.closeAll, nil
	}
	router, err := iat.NewRouter(tb.jwt, tb.opaque, tb.sink)
	if err != nil {
		tb.closeAll()
		return nil, nil, err
	}
	return router, tb.closeAll, nil
}

// instrumentTokens exports the token validators' metrics on reg.
func instrumentTokens(tokens iat.Validator, reg prometheus.Registerer) {
	if r, ok := tokens.(*iat.Router); ok {
		r.SetMetrics(metrics.NewIAT(reg))
	}
}

// tokenBuilder collects routes and closers while validators are built.
type tokenBuilder struct {
	ctx     context.Context
	logger  *slog.Logger
	sink    *iat.MetricsSink
	jwt     []iat.Route
	opaque  []iat.OpaqueRoute
	closers []func() error
}

func (tb *tokenBuilder) closeAll() {
	for _, c := range tb.closers {
		_ = c()
	}
}

// add builds one issuer's validators: keys for its JWTs (jwks_uri or
// discovery) and introspection for opaque tokens and, without keys, JWTs.
func (tb *tokenBuilder) add(is config.Issuer) error {
	if is.InsecureHTTP {
		tb.logger.Warn("INSECURE: plain-http URLs allowed for this issuer; its keys and introspection answers are not protected in transit", "issuer", is.Issuer)
	}
	if isTrialIssuer(is.Issuer) {
		tb.logger.Warn("TRIAL: initial access tokens of a .invalid issuer (dcrgate token keygen) are trusted; whoever holds its key file may register clients. Not for production", "issuer", is.Issuer)
	}
	keys, err := tb.keyValidator(is)
	if err != nil {
		return err
	}
	var intro *iat.IntrospectionValidator
	if is.IntrospectionEndpoint != "" {
		if intro, err = tb.introspector(is); err != nil {
			return err
		}
		tb.opaque = append(tb.opaque, iat.OpaqueRoute{Prefix: is.Introspection.TokenPrefix,
			Route: iat.Route{Issuer: is.Issuer, Method: iat.MethodIntrospection, Validator: intro}})
	}
	switch {
	case keys != nil:
		tb.jwt = append(tb.jwt, iat.Route{Issuer: is.Issuer, Method: iat.MethodJWT, Validator: keys})
	case intro != nil:
		tb.jwt = append(tb.jwt, iat.Route{Issuer: is.Issuer, Method: iat.MethodIntrospection, Validator: intro})
	}
	return nil
}

func (tb *tokenBuilder) keyValidator(is config.Issuer) (iat.Validator, error) {
	cfg := iat.JWKSConfig{Issuer: is.Issuer, JWKSURI: is.JWKSURI, Audience: is.Audience, Algorithms: is.Algorithms,
		ClockSkew: is.ClockSkew, RequireATJWT: is.RequireATJWT, ScopeClaim: is.ScopeClaim, MaxKeyAge: is.JWKSMaxAge, Metrics: tb.sink}
	switch {
	case is.JWKSFile != "":
		keys, err := jwksFromFile(is.JWKSFile)
		if err != nil {
			return nil, err
		}
		cfg.JWKS = keys
		fallthrough
	case is.JWKSURI != "":
		v, err := iat.NewJWKSValidator(tb.ctx, cfg, tb.logger)
		if err != nil {
			return nil, err
		}
		tb.closers = append(tb.closers, v.Close)
		return v, nil
	case is.Discovery:
		v, err := iat.NewDiscoveryValidator(tb.ctx, cfg, tb.logger)
		if err != nil {
			return nil, err
		}
		tb.closers = append(tb.closers, v.Close)
		return v, nil
	}
	return nil, nil
}

// isTrialIssuer: the issuers of `dcrgate token keygen` are in the .invalid
// top-level domain (RFC 2606), which no real authorization server has.
func isTrialIssuer(issuer string) bool {
	u, err := url.Parse(issuer)
	return err == nil && strings.HasSuffix(strings.ToLower(u.Hostname()), ".invalid")
}

// jwksFromFile reads an issuer's jwks_file: a JWK Set with at least one
// public key, read once (a trial's keys do not rotate).
func jwksFromFile(path string) (jwk.Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, keyError{"jwks_file", err}
	}
	keys, err := jwk.Parse(data)
	if err != nil {
		return nil, keyError{"jwks_file", fmt.Errorf("%s: not a JWK Set: %w", path, err)}
	}
	if keys.Len() == 0 {
		return nil, keyError{"jwks_file", fmt.Errorf("%s holds no keys", path)}
	}
	return keys, nil
}

func (tb *tokenBuilder) introspector(is config.Issuer) (*iat.IntrospectionValidator, error) {
	in := is.Introspection
	auth, err := introspectionAuth(in)
	if err != nil {
		return nil, err
	}
	return iat.NewIntrospectionValidator(iat.IntrospectionConfig{Issuer: is.Issuer, Endpoint: is.IntrospectionEndpoint,
		Auth: auth, Audience: is.Audience, ClockSkew: is.ClockSkew, ScopeClaim: is.ScopeClaim, Timeout: in.Timeout,
		CacheTTL: in.CacheTTL, InactiveCacheTTL: in.InactiveCacheTTL, CacheSize: in.CacheSize, Metrics: tb.sink}, tb.logger)
}

// introspectionAuth is how dcrgate authenticates at an introspection
// endpoint, with the private_key_jwt key read and parsed. config check
// runs it too (startup.go).
func introspectionAuth(in config.Introspection) (iat.ClientAuth, error) {
	auth := iat.ClientAuth{Method: in.AuthMethod, ClientID: in.ClientID, ClientSecret: in.ClientSecret, Algorithm: in.SigningAlg}
	if in.AuthMethod != iat.AuthPrivateKeyJWT {
		return auth, nil
	}
	const key = "introspection.private_key_file"
	pemData, err := os.ReadFile(in.PrivateKeyFile)
	if err != nil {
		return auth, keyError{key, err}
	}
	if auth.PrivateKey, auth.Algorithm, err = iat.LoadPrivateKey(pemData, in.PrivateKeyID, in.SigningAlg); err != nil {
		return auth, keyError{key, fmt.Errorf("%s: %w", in.PrivateKeyFile, err)}
	}
	return auth, nil
}

// telemetryHandler serves /metrics, /healthz (the process is up) and /readyz
// (the directory answers), as dex does on its telemetry listener.
func telemetryHandler(reg *prometheus.Registry, st store.Store) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := st.Ping(ctx); err != nil {
			http.Error(w, "directory unavailable", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

// serve runs handler on ln until ctx ends, then shuts down gracefully:
// requests in flight get up to grace to finish.
func serve(ctx context.Context, ln net.Listener, handler http.Handler, grace time.Duration, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "addr", ln.Addr().String(), "grace", grace)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
