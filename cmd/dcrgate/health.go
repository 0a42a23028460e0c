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
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Check that a running dcrgate is ready (exit 0) or only alive (--live), for container health checks",
		Long: `health asks the telemetry listener of a running dcrgate (metrics.listen of the
configuration, on this host) for /readyz — the directory answers — or, with
--live, /healthz — the process runs — and exits 0 only on 200. --wait keeps
asking until then, for scripts that start serve and go on once it is ready.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if target == "" {
				cfg, err := config.Read(path, os.LookupEnv)
				if err != nil {
					return err
				}
				target = telemetryURL(cfg.Metrics.Listen, live)
			}
			if err := checkUntil(cmd.Context(), target, wait); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "ok")
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "dcrgate.yaml", "configuration file, for metrics.listen")
	cmd.Flags().StringVar(&target, "url", "", "the URL to check instead (e.g. http://127.0.0.1:9090/readyz)")
	cmd.Flags().BoolVar(&live, "live", false, "check that the process runs (/healthz) rather than that it is ready")
	cmd.Flags().DurationVar(&wait, "wait", 0, "keep checking this long until the answer is 200 (e.g. 30s); 0 = check once")
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

// checkUntil checks target until it answers 200 or wait has passed, every
// quarter second; the error is the last check's.
func checkUntil(ctx context.Context, target string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		err := check(ctx, target)
		if err == nil || !time.Now().Before(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(250 * time.Millisecond):
		}
	}
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
