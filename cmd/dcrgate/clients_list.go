package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/config"
	"github.com/dcrgate/dcrgate/registration"
	"github.com/dcrgate/dcrgate/store"
)

// listFilters are the flags of `clients list`, each one a field of
// store.Query, so the directory does the filtering.
type listFilters struct {
	owner, issuer, tokenID, name string
	createdBefore, createdAfter  timeValue
	expired, disabled            bool
	kind                         string
	idle                         durationValue
	limit                        int
}

func newClientsListCommand() *cobra.Command {
	var lf listFilters
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List clients, filtered in the directory, as they are read",
		Long: `list writes one row (or, with --json, one JSON object) per client as the
directory returns them, a page at a time, so it runs in bounded memory over any
number of clients. Filters combine: every one given must match. The table's
count goes to stderr, so stdout holds only rows.`,
		Args: cobra.NoArgs,
	}
	f := newAdminFlags(cmd, true)
	fl := cmd.Flags()
	fl.StringVar(&lf.owner, "owner", "", "clients registered by this subject (the initial access token's sub)")
	fl.StringVar(&lf.issuer, "issuer", "", "clients registered with a token of this issuer (URL)")
	fl.StringVar(&lf.tokenID, "token-id", "", "clients registered with this initial access token (its jti)")
	fl.StringVar(&lf.name, "name", "", "clients whose client_name contains this, ignoring case")
	fl.Var(&lf.createdBefore, "created-before", "clients registered before this time (RFC 3339, or a date: 2026-12-01)")
	fl.Var(&lf.createdAfter, "created-after", "clients registered at or after this time (RFC 3339, or a date)")
	fl.BoolVar(&lf.expired, "expired", false, "clients whose lifetime is over")
	fl.BoolVar(&lf.disabled, "disabled", false, "disabled clients, those awaiting approval included")
	fl.StringVar(&lf.kind, "kind", "", "public (no secret) or secret (client_secret_basic/post)")
	fl.Var(&lf.idle, "idle", "clients not used (read or updated through RFC 7592) for this long: 720h, 90d")
	fl.IntVar(&lf.limit, "limit", 0, "stop after this many clients (0: all)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		q, err := lf.query(time.Now())
		if err != nil {
			return err
		}
		return f.run(cmd, func(ctx context.Context, a *registration.Admin, cfg config.Config, out *output) error {
			n, err := list(ctx, a, q, lf.limit, out)
			if err == nil && !out.json {
				fmt.Fprintln(cmd.ErrOrStderr(), countLine(n, lf.limit))
			}
			return err
		})
	}
	return cmd
}

// query maps the flags onto the store's query at now.
func (lf listFilters) query(now time.Time) (store.Query, error) {
	q := store.Query{OwnerSubject: lf.owner, OwnerIssuer: lf.issuer, OwnerTokenID: lf.tokenID, NameContains: lf.name,
		CreatedBefore: time.Time(lf.createdBefore), CreatedAfter: time.Time(lf.createdAfter), Disabled: lf.disabled}
	switch store.Kind(lf.kind) {
	case "", store.Public, store.SecretBased:
		q.Kind = store.Kind(lf.kind)
	default:
		return q, fmt.Errorf("--kind %q: want %s or %s", lf.kind, store.Public, store.SecretBased)
	}
	if lf.limit < 0 {
		return q, fmt.Errorf("--limit %d: want 0 (all) or more", lf.limit)
	}
	if lf.expired {
		q.ExpiredAt = now
	}
	if lf.idle > 0 {
		q.UnusedSince = now.Add(-time.Duration(lf.idle))
	}
	return q, nil
}

// list streams the clients q selects to out, stopping after limit (0: no
// limit), and returns how many it wrote. Nothing is kept between rows.
func list(ctx context.Context, a *registration.Admin, q store.Query, limit int, out *output) (int, error) {
	n := 0
	out.header()
	err := a.Walk(ctx, q, func(r client.Record) error {
		if err := out.row(r); err != nil {
			return err
		}
		if n++; n == limit {
			return store.ErrStopWalk
		}
		return nil
	})
	if errors.Is(err, store.ErrStopWalk) {
		err = nil
	}
	return n, err
}

// countLine says how many clients a table listed.
func countLine(n, limit int) string {
	noun := "clients"
	if n == 1 {
		noun = "client"
	}
	if limit > 0 && n == limit {
		return fmt.Sprintf("%d %s (stopped at --limit; there may be more)", n, noun)
	}
	return fmt.Sprintf("%d %s", n, noun)
}
