package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dcrgate/dcrgate/api"
	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/config"
	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/iat"
	"github.com/dcrgate/dcrgate/metrics"
	"github.com/dcrgate/dcrgate/registration"
	"github.com/dcrgate/dcrgate/store"
)

// realm names the protection space in WWW-Authenticate challenges.
const realm = "dcrgate"

// gateway is a wired dcrgate: the API engine and the telemetry handler over
// one store.
type gateway struct {
	engine    *gin.Engine
	telemetry http.Handler
}

// newGateway wires the registration service and its HTTP faces.
func newGateway(cfg config.Config, st store.Store, tokens iat.Validator, secretScheme string, logger *slog.Logger) (*gateway, error) {
	hasher, err := credentials.NewHasher(secretScheme)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	chain, err := buildPolicies(cfg.Policies, st)
	if err != nil {
		return nil, err
	}
	svc := registration.New(st, tokens, hasher, serviceOptions(cfg), registration.WithLogger(logger), registration.WithPolicy(chain))
	engine := api.NewRouter(api.Config{
		Path:                cfg.Registration.Path,
		RegistrationEnabled: cfg.Registration.Enabled,
		ManagementEnabled:   cfg.Management.Enabled,
		MaxBodyBytes:        cfg.Registration.MaxBodyBytes,
		Realm:               realm,
	}, svc, metrics.New(reg), logger)
	return &gateway{engine: engine, telemetry: telemetryHandler(reg, st)}, nil
}

// serviceOptions maps the configuration onto the registration use cases.
func serviceOptions(cfg config.Config) registration.Options {
	m := cfg.Management
	base := strings.TrimRight(cfg.ExternalURL, "/") + cfg.Registration.Path + "/"
	return registration.Options{
		RequireInitialAccessToken: cfg.Registration.RequireInitialAccessToken,
		RequiredScopes:            cfg.Registration.RequiredScopes,
		Management: registration.Management{
			Enabled:                       m.Enabled,
			RotateClientSecret:            m.RotateClientSecret,
			RotateRegistrationAccessToken: m.RotateRegistrationAccessToken,
			AllowClientDelete:             m.AllowClientDelete,
			RetainClientSecret:            m.RetainClientSecret,
			ClientSecretRetentionPeriod:   m.ClientSecretRetentionPeriod,
		},
		Metadata:  metadataOptions(cfg.Registration),
		ClientURI: func(id string) string { return base + id },
	}
}

func metadataOptions(r config.Registration) client.Options {
	opts := client.Options{MaxRedirectURIs: r.MaxRedirectURIs, MaxValueLength: r.MaxValueLength}
	for _, p := range r.ExtendedMetadata {
		opts.Extensions = append(opts.Extensions, client.Extension{Name: p.Name, Type: p.Type, Required: p.Required})
	}
	return opts
}

// tokenValidator builds one JWKS validator per configured issuer, chosen by
// the token's iss. It returns nil when no issuer is configured.
func tokenValidator(ctx context.Context, issuers []config.Issuer, logger *slog.Logger) (iat.Validator, func(), error) {
	byIssuer := map[string]iat.Validator{}
	var closers []func() error
	closeAll := func() {
		for _, c := range closers {
			_ = c()
		}
	}
	for _, is := range issuers {
		v, err := iat.NewJWKSValidator(ctx, iat.JWKSConfig{
			Issuer: is.Issuer, JWKSURI: is.JWKSURI, Audience: is.Audience, ClockSkew: is.ClockSkew,
		}, logger)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("issuer %s: %w", is.Issuer, err)
		}
		byIssuer[is.Issuer] = v
		closers = append(closers, v.Close)
	}
	if len(byIssuer) == 0 {
		return nil, closeAll, nil
	}
	multi, err := iat.NewMulti(byIssuer)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return multi, closeAll, nil
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

// serve runs handler on ln until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, ln net.Listener, handler http.Handler, logger *slog.Logger) error {
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
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
