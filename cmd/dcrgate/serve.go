package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/dcrgate/dcrgate/config"
	"github.com/dcrgate/dcrgate/ldapstore"
	"github.com/dcrgate/dcrgate/logging"
)

func newServeCommand() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway in production against an LDAP directory",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadServeConfig(path)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runServe(ctx, cfg)
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "dcrgate.yaml", "configuration file (YAML); DCRGATE_* variables override it")
	return cmd
}

func runServe(ctx context.Context, cfg config.Config) error {
	logger := logging.New(os.Stderr, cfg.Log.Level, cfg.Log.Format)
	warnIfDisabled(logger, cfg)
	gw, stop, err := startGateway(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer stop()
	go runReaper(ctx, gw.svc.Admin("reaper"), cfg.Reaper, gw.reaped, logger)
	return listenAll(ctx, logger, cfg.ShutdownGracePeriod,
		listener{"api", cfg.Listen, gw.engine},
		listener{"telemetry", cfg.Metrics.Listen, gw.telemetry})
}

// startGateway builds what serve runs — the directory's store, the token
// validators, the gateway — and returns the function that stops them. A
// directory that does not answer yet is no failure (the store keeps
// trying); whatever fails here is the configuration's, which config check
// must find first (startup_test.go holds it to that).
func startGateway(ctx context.Context, cfg config.Config, logger *slog.Logger) (*gateway, func(), error) {
	ldapCfg, err := ldapStoreConfig(cfg.LDAP)
	if err != nil {
		return nil, nil, fmt.Errorf("directory: %w", err)
	}
	reg := newRegistry()
	ldapCfg.Registerer = reg
	ldapCfg.StartUnreachable = true
	st, err := ldapstore.New(ctx, ldapCfg, logger)
	if err != nil {
		return nil, nil, fmt.Errorf("directory: %w", err)
	}
	tokens, closeTokens, err := tokenValidator(ctx, cfg.InitialAccessTokens.Issuers, logger)
	if err != nil {
		_ = st.Close()
		return nil, nil, err
	}
	gw, err := newGateway(cfg, st, tokens, st.SecretScheme(), reg, logger)
	if err != nil {
		closeTokens()
		_ = st.Close()
		return nil, nil, err
	}
	return gw, func() { gw.close(); closeTokens(); _ = st.Close() }, nil
}

// ldapStoreConfig maps config.LDAP (validated there) to the store's
// settings, reading the TLS files.
func ldapStoreConfig(l config.LDAP) (ldapstore.Config, error) {
	tlsCfg, err := ldapstore.TLSConfig(l.CAFile, l.ClientCertFile, l.ClientKeyFile, l.InsecureSkipVerify)
	return ldapstore.Config{URLs: l.URLs, MultiProvider: l.MultiProvider, BindDN: l.BindDN, BindPassword: l.BindPassword,
		BaseDN: l.BaseDN, PoolSize: l.PoolSize, Timeout: l.Timeout, SecretScheme: l.SecretScheme,
		TLS: tlsCfg, StartTLS: l.StartTLS, Layout: l.Directory, LastBindAttribute: l.LastBindAttribute}, err
}

// warnIfDisabled says loudly that a default configuration exposes nothing:
// PingFederate ships with registration off, and so does dcrgate.
func warnIfDisabled(logger *slog.Logger, cfg config.Config) {
	if !cfg.Registration.Enabled {
		logger.Warn("DYNAMIC CLIENT REGISTRATION IS DISABLED: every registration request gets 404; set registration.enabled: true to turn it on")
		return
	}
	if !cfg.Registration.RequireInitialAccessToken {
		logger.Warn("open registration: anyone who can reach the endpoint can register clients (registration.require_initial_access_token: false)")
	}
}

// listener is one named address and what it serves there.
type listener struct {
	name    string
	addr    string
	handler http.Handler
}

// listenAll binds every listener with an address first, so a port clash
// fails start-up, then serves them until ctx ends or one fails, which stops
// the others.
func listenAll(ctx context.Context, logger *slog.Logger, grace time.Duration, ls ...listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var bound []net.Listener
	for _, l := range ls {
		if l.addr == "" {
			bound = append(bound, nil)
			continue
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			closeListeners(bound)
			return fmt.Errorf("%s listener: %w", l.name, err)
		}
		logger.Info("listening", "listener", l.name, "addr", ln.Addr().String())
		bound = append(bound, ln)
	}
	errc := make(chan error, len(ls))
	running := 0
	for i, ln := range bound {
		if ln != nil {
			running++
			go func() { errc <- serve(ctx, ln, ls[i].handler, grace, logger) }()
		}
	}
	var first error
	for range running {
		if err := <-errc; err != nil && first == nil {
			first = err
			cancel()
		}
	}
	return first
}

func closeListeners(lns []net.Listener) {
	for _, ln := range lns {
		if ln != nil {
			_ = ln.Close()
		}
	}
}
