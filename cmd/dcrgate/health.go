package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/dcrgate/dcrgate/config"
)

// healthTimeout bounds one health check; an orchestrator runs it often.
const healthTimeout = 3 * time.Second

// newHealthCommand checks a running dcrgate from outside, for container
// health checks: the image is distroless, with no curl or wget to call
// /readyz with.
func newHealthCommand() *cobra.Command {
	var path, target string
	var live bool
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Check that a running dcrgate is ready (exit 0) or only alive (--live), for container health checks",
		Long: `health asks the telemetry listener of a running dcrgate (metrics.listen of the
configuration, on this host) for /readyz — the directory answers — or, with
--live, /healthz — the process runs — and exits 0 only on 200.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if target == "" {
				cfg, err := config.Read(path, os.LookupEnv)
				if err != nil {
					return err
				}
				target = telemetryURL(cfg.Metrics.Listen, live)
			}
			if err := check(cmd.Context(), target); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "ok")
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "dcrgate.yaml", "configuration file, for metrics.listen")
	cmd.Flags().StringVar(&target, "url", "", "the URL to check instead (e.g. http://127.0.0.1:9090/readyz)")
	cmd.Flags().BoolVar(&live, "live", false, "check that the process runs (/healthz) rather than that it is ready")
	return cmd
}

// telemetryURL is the URL of /readyz (or /healthz) on the telemetry listener
// listen, reached from this host: a listener on every address is asked on
// loopback.
func telemetryURL(listen string, live bool) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		host, port = "", listen
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	endpoint := "/readyz"
	if live {
		endpoint = "/healthz"
	}
	return "http://" + net.JoinHostPort(host, port) + endpoint
}

// check GETs target and wants 200.
func check(ctx context.Context, target string) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", target, res.Status)
	}
	return nil
}
