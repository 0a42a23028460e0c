package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/config"
	"github.com/dcrgate/dcrgate/registration"
	"github.com/dcrgate/dcrgate/store"
)

func newClientsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "clients",
		Short: "List and administer registered clients in the directory",
		Long: `clients works on the directory named by the same configuration file as serve,
with the same rules, without a registration access token: the directory's
own access control decides who may run it. Every change is logged with its
actor (--actor, by default the operating system's user).`,
	}
	cmd.AddCommand(newClientsListCommand(), newClientsShowCommand(), newClientsDisableCommand(),
		newClientsEnableCommand(), newClientsDeleteCommand(), newClientsResetTokenCommand(), newClientsReapCommand(),
		newClientsFetchMetadataCommand())
	return cmd
}

// adminFlags are the flags every clients subcommand shares.
type adminFlags struct {
	path  string
	actor string
	json  bool
}

// newAdminFlags registers the shared flags on cmd; withJSON adds --json
// for the subcommands that print more than one line of text.
func newAdminFlags(cmd *cobra.Command, withJSON bool) *adminFlags {
	f := &adminFlags{}
	cmd.Flags().StringVarP(&f.path, "config", "c", "dcrgate.yaml", "configuration file (YAML); DCRGATE_* variables override it")
	cmd.Flags().StringVar(&f.actor, "actor", defaultActor(), "who is acting, as written in the audit log")
	if withJSON {
		cmd.Flags().BoolVar(&f.json, "json", false, "write JSON for scripts instead of text for people")
	}
	return f
}

// run is the one way a subcommand reaches the directory: it opens it,
// hands fn the administrator's use cases and the output, and closes both,
// flushing what fn wrote even when it failed half-way. An interrupt ends
// fn's context, so a long walk stops cleanly.
func (f *adminFlags) run(cmd *cobra.Command, fn func(ctx context.Context, a *registration.Admin, cfg config.Config, out *output) error) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, cfg, closeAdmin, err := openAdmin(ctx, f.path, f.actor)
	if err != nil {
		return explain(err)
	}
	defer closeAdmin()
	out := newOutput(cmd, f.json)
	err = fn(ctx, a, cfg, out)
	if ferr := out.flush(); err == nil {
		err = ferr
	}
	return explain(err)
}

// explain turns the errors a person cannot act on as they are into ones
// that say what happened.
func explain(err error) error {
	if errors.Is(err, store.ErrUnavailable) {
		return fmt.Errorf("the directory is unreachable: %w", err)
	}
	return err
}

// clientIDArg takes exactly one argument with the shape of a client ID, so
// a typo is refused before the directory is contacted.
func clientIDArg(_ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("expects one client ID, got %d arguments", len(args))
	}
	if !client.ValidID(args[0]) {
		return fmt.Errorf("%q is not a client ID (1 to 64 lowercase letters, digits, '-' and '_', or a metadata document's https URL)", args[0])
	}
	return nil
}

func newClientsFetchMetadataCommand() *cobra.Command {
	var refresh bool
	cmd := &cobra.Command{
		Use:   "fetch-metadata URL",
		Short: "Fetch a Client ID Metadata Document into the directory, as the metadata-document endpoint does",
		Long: `fetch-metadata makes the client whose client_id is URL, the https address of its
metadata document, known to the directory: with the same fetch limits, checks
and policies as {registration.path}/metadata-document. While the stored copy is
fresh it is shown as is, unless --refresh.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 || !client.IsMetadataDocumentID(args[0]) {
				return errors.New("expects one https URL with a path, no fragment, no user information and no dot segments")
			}
			return nil
		},
	}
	f := newAdminFlags(cmd, true)
	cmd.Flags().BoolVar(&refresh, "refresh", false, "fetch the document even while the stored copy is fresh")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return f.run(cmd, func(ctx context.Context, a *registration.Admin, cfg config.Config, out *output) error {
			r, _, err := a.MetadataDocument(ctx, args[0], refresh)
			if err != nil {
				return err
			}
			return out.details(r)
		})
	}
	return cmd
}

func newClientsShowCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show everything about one client (never its secret or token hashes)",
		Args:  clientIDArg,
	}
	f := newAdminFlags(cmd, true)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return f.run(cmd, func(ctx context.Context, a *registration.Admin, cfg config.Config, out *output) error {
			r, err := a.Get(ctx, args[0])
			if err != nil {
				return err
			}
			return out.details(r)
		})
	}
	return cmd
}

func newClientsDisableCommand() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "disable ID",
		Short: "Make a client unusable until enabled: dcrgate and the directory's bind refuse it",
		Args:  clientIDArg,
	}
	f := newAdminFlags(cmd, false)
	cmd.Flags().StringVar(&reason, "reason", "", "why, for people (default: \"disabled by\" the actor)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return f.run(cmd, func(ctx context.Context, a *registration.Admin, cfg config.Config, out *output) error {
			r, err := a.Disable(ctx, args[0], reason)
			if err == nil {
				out.printf("disabled client %s (%s)\n", r.ID, r.DisabledReason)
			}
			return err
		})
	}
	return cmd
}

func newClientsEnableCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "enable ID",
		Short: "Make a disabled client usable again, or approve one an approval policy holds",
		Args:  clientIDArg,
	}
	f := newAdminFlags(cmd, false)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return f.run(cmd, func(ctx context.Context, a *registration.Admin, cfg config.Config, out *output) error {
			r, err := a.Enable(ctx, args[0])
			if err == nil {
				out.printf("enabled client %s (expires %s)\n", r.ID, day(r.ExpiresAt))
			}
			return err
		})
	}
	return cmd
}

func newClientsDeleteCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Remove a client from the directory",
		Args:  clientIDArg,
	}
	f := newAdminFlags(cmd, false)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return f.run(cmd, func(ctx context.Context, a *registration.Admin, cfg config.Config, out *output) error {
			err := a.Delete(ctx, args[0])
			if err == nil {
				out.printf("deleted client %s\n", args[0])
			}
			return err
		})
	}
	return cmd
}

func newClientsResetTokenCommand() *cobra.Command {
	var newSecret bool
	cmd := &cobra.Command{
		Use:   "reset-token ID",
		Short: "Issue a new registration access token (and secret), ending the old ones at once",
		Long: `reset-token gives a client whose developer lost the registration access token
(or whose token leaked) a new one, and with --new-secret a new client secret.
What was issued before stops working at once. The new credentials are printed
here once: dcrgate keeps only their hashes.`,
		Args: clientIDArg,
	}
	f := newAdminFlags(cmd, true)
	cmd.Flags().BoolVar(&newSecret, "new-secret", false, "also issue a new client secret (confidential clients)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return f.run(cmd, func(ctx context.Context, a *registration.Admin, cfg config.Config, out *output) error {
			reg, err := a.ResetToken(ctx, args[0], newSecret)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "warning: the credentials below are shown this once; dcrgate keeps only their hashes")
			if newSecret && reg.ClientSecret == "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "note: a public client has no secret; only the token was reset")
			}
			return out.credentials(reg)
		})
	}
	return cmd
}
