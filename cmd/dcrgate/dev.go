package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/dcrgate/dcrgate/config"
	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/iat"
	"github.com/dcrgate/dcrgate/iat/devissuer"
	"github.com/dcrgate/dcrgate/ldapstore"
	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/logging"
	"github.com/dcrgate/dcrgate/store"
	"github.com/dcrgate/dcrgate/store/memstore"
)

// Development issuer layout: the JWKS is served by the gateway itself and
// fetched over HTTP by the same validator production uses.
const (
	devIssuerPath = "/dev"
	devJWKSPath   = "/dev/jwks.json"
	devScope      = "dcr"
	devTokenTTL   = 12 * time.Hour
)

type devOptions struct {
	listen string
	ldap   bool
}

func newDevCommand() *cobra.Command {
	var opts devOptions
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a zero-setup development gateway (in-memory store, built-in token issuer)",
		Long: `dev runs dcrgate with registration and management enabled, an in-memory
store (or, with --ldap, a throwaway slapd loaded with the shipped schema) and a
built-in development issuer. It prints shell-sourceable variables with the
registration endpoint and an initial access token, then a curl line to try.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runDev(ctx, opts, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&opts.listen, "listen", "127.0.0.1:8080", "address to listen on")
	cmd.Flags().BoolVar(&opts.ldap, "ldap", false, "store clients in a throwaway slapd (needs Debian's slapd package)")
	return cmd
}

func runDev(ctx context.Context, opts devOptions, out io.Writer) error {
	logger := logging.New(os.Stderr, "info", "text")
	ln, err := net.Listen("tcp", opts.listen)
	if err != nil {
		return err
	}
	base := "http://" + reachable(ln.Addr())
	cfg := devConfig(base)
	issuer, err := devissuer.New(base + devIssuerPath)
	if err != nil {
		return err
	}
	reg := newRegistry()
	st, scheme, cleanup, err := devStore(ctx, opts.ldap, reg, logger)
	if err != nil {
		_ = ln.Close()
		return err
	}
	defer cleanup()
	tokens, err := iat.NewJWKSValidator(ctx, iat.JWKSConfig{Issuer: issuer.Issuer(), JWKSURI: base + devJWKSPath, ClockSkew: config.DefaultClockSkew}, logger)
	if err != nil {
		return err
	}
	defer tokens.Close()
	gw, err := newGateway(cfg, st, tokens, scheme, reg, logger)
	if err != nil {
		return err
	}
	defer gw.close()
	gw.engine.GET(devJWKSPath, gin.WrapH(issuer.JWKSHandler()))
	gw.engine.GET("/metrics", gin.WrapH(gw.telemetry))
	gw.engine.GET("/healthz", gin.WrapH(gw.telemetry))
	gw.engine.GET("/readyz", gin.WrapH(gw.telemetry))
	token, err := issuer.Mint("developer", []string{devScope}, devTokenTTL)
	if err != nil {
		return err
	}
	printDevBanner(out, base+cfg.Registration.Path, token)
	return serve(ctx, ln, gw.engine, cfg.ShutdownGracePeriod, logger)
}

// reachable is addr as a client on this host dials it: a listener on every
// address (":8080", "[::]:8080", "0.0.0.0:8080", dual-stack in Go) is
// reached on 127.0.0.1. It becomes the issuer of the development tokens
// and the base of registration_client_uri, so it must be an address that
// works.
func reachable(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return addr.String()
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
}

// devConfig is the embedded default: PingFederate's defaults with
// registration, management and metadata documents (from public hosts, the
// fetch guard as in production) switched on and the development issuer
// trusted.
func devConfig(base string) config.Config {
	cfg := config.Default()
	cfg.ExternalURL = base
	cfg.Registration.Enabled = true
	cfg.Registration.RequiredScopes = []string{devScope}
	cfg.Management.Enabled = true
	cfg.MetadataDocuments.Enabled = true
	return cfg
}

// devStore returns the in-memory store, or a store on a throwaway slapd.
func devStore(ctx context.Context, useLDAP bool, reg prometheus.Registerer, logger *slog.Logger) (store.Store, string, func(), error) {
	if !useLDAP {
		return memstore.New(), credentials.SchemeSSHA512, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "dcrgate-dev-slapd-")
	if err != nil {
		return nil, "", nil, err
	}
	srv, err := slapdtest.Launch(ctx, dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, "", nil, fmt.Errorf("starting slapd: %w", err)
	}
	logger.Info("throwaway slapd started", "url", srv.URL, "base_dn", srv.BaseDN, "bind_dn", srv.BindDN, "dir", dir)
	st, err := ldapstore.New(ctx, ldapstore.Config{URLs: []string{srv.URL}, BindDN: srv.BindDN,
		BindPassword: srv.BindPassword, BaseDN: srv.BaseDN, Registerer: reg}, logger)
	if err != nil {
		srv.Stop()
		_ = os.RemoveAll(dir)
		return nil, "", nil, err
	}
	cleanup := func() {
		_ = st.Close()
		srv.Stop()
		_ = os.RemoveAll(dir)
	}
	return st, st.SecretScheme(), cleanup, nil
}

// printDevBanner writes shell-sourceable variables and a ready-to-paste curl
// line to stdout; logs go to stderr, so `eval "$(dcrgate dev | head -2)"`
// style use keeps working.
func printDevBanner(out io.Writer, endpoint, token string) {
	fmt.Fprintf(out, "DCRGATE_REGISTRATION_ENDPOINT=%s\n", endpoint)
	fmt.Fprintf(out, "DCRGATE_INITIAL_ACCESS_TOKEN=%s\n", token)
	fmt.Fprintf(out, "# Register a client (paste the two lines above into your shell first):\n")
	fmt.Fprintf(out, "# curl -s -X POST \"$DCRGATE_REGISTRATION_ENDPOINT\" -H \"Authorization: Bearer $DCRGATE_INITIAL_ACCESS_TOKEN\" -H 'Content-Type: application/json' -d '{\"client_name\":\"My App\",\"redirect_uris\":[\"http://127.0.0.1:3000/callback\"]}'\n")
}
