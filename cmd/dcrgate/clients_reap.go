package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dcrgate/dcrgate/config"
	"github.com/dcrgate/dcrgate/registration"
)

func newClientsReapCommand() *cobra.Command {
	var dryRun bool
	var idlePublic, idleSecret durationValue
	cmd := &cobra.Command{
		Use:   "reap",
		Short: "Remove expired and idle clients, and credentials past their time",
		Long: `reap does once what serve's reaper does every reaper.interval: it removes
expired clients, settles retained secrets and previous tokens past their time,
and, when asked, removes idle public clients and clients whose secret the
directory has not seen bind. The idle limits default to the configuration's
reaper.idle_public_clients and reaper.idle_secret_clients; 0 turns one off.
Each client acted on is printed; --dry-run prints them and changes nothing.`,
		Args: cobra.NoArgs,
	}
	f := newAdminFlags(cmd, false)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be done, and do nothing")
	cmd.Flags().Var(&idlePublic, "idle-public", "remove public clients unused this long (default: reaper.idle_public_clients)")
	cmd.Flags().Var(&idleSecret, "idle-secret", "remove clients with a secret neither bound nor used this long (default: reaper.idle_secret_clients)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return f.run(cmd, func(ctx context.Context, a *registration.Admin, cfg config.Config, out *output) error {
			opts := registration.ReapOptions{DryRun: dryRun, IdlePublic: cfg.Reaper.IdlePublicClients, IdleSecret: cfg.Reaper.IdleSecretClients}
			if cmd.Flags().Changed("idle-public") {
				opts.IdlePublic = time.Duration(idlePublic)
			}
			if cmd.Flags().Changed("idle-secret") {
				opts.IdleSecret = time.Duration(idleSecret)
			}
			return reap(ctx, a, opts, out, newProgress(cmd.ErrOrStderr(), cmd.OutOrStdout()))
		})
	}
	return cmd
}

// reap runs the reaper once, printing each client it acts on and, at the
// end, what it did by reason — also when it stopped on an error, so that
// what was already removed is known.
func reap(ctx context.Context, a *registration.Admin, opts registration.ReapOptions, out *output, p *progress) error {
	n := 0
	done, err := a.Reap(ctx, opts, func(r registration.Reaped) {
		n++
		p.interrupt()
		out.printf("%s %s (%s)\n", reapVerb(r.Reason, opts.DryRun), r.ClientID, r.Reason)
		if p.shared {
			_ = out.flush() // the line goes out before the progress line is drawn again
		}
		p.show(n)
	})
	p.clear()
	out.printf("%s\n", reapSummary(done, opts.DryRun))
	if errors.Is(err, registration.ErrNoBindRecords) {
		return fmt.Errorf("cannot remove idle secret clients (--idle-secret, reaper.idle_secret_clients); set it to 0 here: %w", err)
	}
	return err
}

// reapVerb says what was done to a client, or would be in a dry run:
// settled clients stay.
func reapVerb(reason registration.Reason, dryRun bool) string {
	settle := reason == registration.ReasonSecretsSettled
	switch {
	case dryRun && settle:
		return "would settle credentials of"
	case dryRun:
		return "would remove"
	case settle:
		return "settled credentials of"
	}
	return "removed"
}

// reapSummary counts what the reaper did, by reason, every reason named.
func reapSummary(done map[registration.Reason]int, dryRun bool) string {
	parts := make([]string, 0, len(registration.Reasons))
	total := 0
	for _, r := range registration.Reasons {
		parts = append(parts, fmt.Sprintf("%s %d", r, done[r]))
		total += done[r]
	}
	head := "reaped"
	if dryRun {
		head = "dry run, nothing changed; due"
	}
	return fmt.Sprintf("%s: %d clients (%s)", head, total, strings.Join(parts, ", "))
}

// progress is the line a terminal shows while the reaper works, redrawn
// in place (\r) at most every progressEvery; elsewhere (a pipe, a log
// file) it writes nothing.
type progress struct {
	w   io.Writer
	tty bool
	// shared: stdout is the same screen, so the line is erased before
	// each client printed there and drawn again after it.
	shared bool
	drawn  time.Time
	width  int
}

const progressEvery = 100 * time.Millisecond

func newProgress(stderr, stdout io.Writer) *progress {
	tty := isTerminal(stderr)
	return &progress{w: stderr, tty: tty, shared: tty && isTerminal(stdout)}
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// show draws the count of clients handled so far, unless it was drawn
// moments ago.
func (p *progress) show(n int) {
	if !p.tty || p.width > 0 && time.Since(p.drawn) < progressEvery {
		return
	}
	line := fmt.Sprintf("reaping: %d clients handled", n)
	fmt.Fprintf(p.w, "\r%s", line)
	p.drawn, p.width = time.Now(), len(line)
}

// interrupt makes room for a line of stdout on a shared screen.
func (p *progress) interrupt() {
	if p.shared {
		p.clear()
	}
}

// clear erases the progress line, if one is drawn, leaving the cursor at
// the start of an empty line.
func (p *progress) clear() {
	if p.width > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
		p.width = 0
	}
}
