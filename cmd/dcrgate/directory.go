package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dcrgate/dcrgate/config"
	"github.com/dcrgate/dcrgate/ldapstore"
	"github.com/dcrgate/dcrgate/provision"
	"github.com/dcrgate/dcrgate/schema/live"
)

func newDirectoryCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "directory", Short: "Prepare the directory dcrgate keeps its clients in"}
	cmd.AddCommand(newDirectoryInitCommand())
	return cmd
}

// initFlags are the flags of `directory init`.
type initFlags struct {
	config, url, readerDN      string
	bindDN, bindPasswordFile   string
	adminDN, adminPasswordFile string
	dryRun                     bool
}

func newDirectoryInitCommand() *cobra.Command {
	var f initFlags
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Prepare an OpenLDAP directory for the configuration: modules, schema, indexes, entries, service account, limits, access rules",
		Long: `init reads the server's cn=config, schema and entries and adds what the
configuration's ldap settings still need, in order: the password modules
(pw-sha2, and the one of ldap.secret_scheme), the dcrgate schema, equality
indexes, the lastbind overlay (with reaper.idle_secret_clients), the suffix
entry, ldap.bind_dn with the configured password (hashed; an existing
account keeps its own), ldap.base_dn, then the service account's size limit
and the access rules of docs/directories.md. It changes nothing that is
already there, so it can run again; an installed schema that differs from
this version's is reported, not changed. It ends by binding as ldap.bind_dn
and reading ldap.base_dn, as serve will.

Run it on the server as root, where SASL EXTERNAL over ldapi:/// manages
cn=config; entries are added as the database's rootdn, whose password
--admin-password-file gives. --dry-run prints the plan as LDIF instead.
OpenLDAP only: other directories are prepared by hand (docs/directories.md).`,
		Example: "  sudo dcrgate directory init -c dcrgate.yaml --admin-password-file admin.pw\n" +
			"  sudo dcrgate directory init -c dcrgate.yaml --dry-run > plan.ldif",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return directoryInit(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.config, "config", "c", "dcrgate.yaml", "the gateway's configuration file, whose ldap settings the directory is prepared for")
	fl.StringVar(&f.url, "url", "", "the server to prepare (default: $LDAPURI, else ldapi:///)")
	fl.StringVar(&f.bindDN, "bind-dn", "", "bind to cn=config as this DN (cn=config's rootdn) instead of SASL EXTERNAL")
	fl.StringVar(&f.bindPasswordFile, "bind-password-file", "", "file holding --bind-dn's password")
	fl.StringVar(&f.adminDN, "admin-dn", "", "add entries as this DN (default: the database's olcRootDN)")
	fl.StringVar(&f.adminPasswordFile, "admin-password-file", "", "file holding the password of --admin-dn; needed when entries must be added")
	fl.StringVar(&f.readerDN, "reader-dn", "", "the authorization server's account, allowed to read the clients but none of their hashes")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print the plan as LDIF (RFC 2849) and change nothing")
	return cmd
}

// directoryInit reads the configuration, plans, and prints or applies.
func directoryInit(cmd *cobra.Command, f initFlags) error {
	cfg, err := config.Read(f.config, os.LookupEnv)
	if err != nil {
		return err
	}
	target, err := initTarget(cfg)
	if err != nil {
		return err
	}
	target.ReaderDN = f.readerDN
	access, err := initAccess(cfg.LDAP, f)
	if err != nil {
		return err
	}
	s, err := provision.Open(cmd.Context(), access)
	if err != nil {
		return advise(err)
	}
	defer s.Close()
	plan, err := s.Plan(cmd.Context(), target)
	if err != nil {
		return advise(err)
	}
	out := cmd.OutOrStdout()
	if f.dryRun {
		return plan.WriteLDIF(out)
	}
	if err := applyPlan(out, s, plan); err != nil {
		return advise(err)
	}
	return verifyService(cmd, cfg.LDAP)
}

// initTarget is what the configuration needs of the directory.
func initTarget(cfg config.Config) (provision.Target, error) {
	l := cfg.LDAP
	if l.Directory != "" && l.Directory != ldapstore.LayoutOpenLDAP {
		return provision.Target{}, fmt.Errorf("ldap.directory is %s: directory init prepares OpenLDAP only; see docs/directories.md", l.Directory)
	}
	for _, setting := range [][2]string{{"ldap.base_dn", l.BaseDN}, {"ldap.bind_dn", l.BindDN}} {
		if setting[1] == "" {
			return provision.Target{}, fmt.Errorf("%s is empty: directory init prepares the directory for it", setting[0])
		}
	}
	return provision.Target{BaseDN: l.BaseDN, ServiceDN: l.BindDN, ServicePassword: l.BindPassword,
		SecretScheme: l.SecretScheme, LastBind: needsLastBind(cfg)}, nil
}

// needsLastBind: reaping idle clients with a secret reads OpenLDAP 2.5's
// lastbind record, authTimestamp. OpenLDAP 2.6's pwdLastSuccess is a
// database setting (olcLastBind) that 2.5 does not have, left to the
// administrator.
func needsLastBind(cfg config.Config) bool {
	attr := cfg.LDAP.LastBindAttribute
	return cfg.Reaper.IdleSecretClients > 0 && (attr == "" || attr == "authTimestamp")
}

// initAccess is how init reaches the server: flags, then the ldap-utils
// convention ($LDAPURI, else ldapi:///), with the configuration's TLS
// settings for an ldaps:// URL.
func initAccess(l config.LDAP, f initFlags) (provision.Access, error) {
	a := provision.Access{URL: f.url, BindDN: f.bindDN, AdminDN: f.adminDN, Timeout: l.Timeout}
	if a.URL == "" {
		a.URL = "ldapi:///"
		if uris := strings.Fields(os.Getenv("LDAPURI")); len(uris) > 0 {
			a.URL = uris[0]
		}
	}
	if (f.bindDN == "") != (f.bindPasswordFile == "") {
		return a, errors.New("--bind-dn and --bind-password-file go together")
	}
	var err error
	if a.BindPassword, err = readPasswordFile("--bind-password-file", f.bindPasswordFile); err != nil {
		return a, err
	}
	if a.AdminPassword, err = readPasswordFile("--admin-password-file", f.adminPasswordFile); err != nil {
		return a, err
	}
	a.TLS, err = ldapstore.TLSConfig(l.CAFile, l.ClientCertFile, l.ClientKeyFile, l.InsecureSkipVerify)
	return a, err
}

// readPasswordFile reads a password, without the newline an editor or
// echo ends the file with; "" for no file.
func readPasswordFile(flag, path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if pw == "" {
		return "", fmt.Errorf("%s: %s is empty", flag, path)
	}
	return pw, nil
}

// applyPlan prints the notes, then each change as it is made.
func applyPlan(out io.Writer, s *provision.Session, plan provision.Plan) error {
	fmt.Fprintf(out, "database %s (suffix %s)\n", plan.Database.DN, plan.Database.Suffix)
	for _, n := range plan.Notes {
		fmt.Fprintln(out, "note:", n)
	}
	if plan.Empty() {
		fmt.Fprintln(out, "nothing to do: the directory is ready")
		return nil
	}
	return s.Apply(plan, func(c provision.Change) { fmt.Fprintln(out, "added", c.Summary) })
}

// verifyService connects as serve will, with the configuration's URLs,
// TLS and service account, and reads the base DN.
func verifyService(cmd *cobra.Command, l config.LDAP) error {
	conn, err := live.Dial(cmd.Context(), l)
	if err == nil {
		defer conn.Close()
		err = provision.Verify(conn, l.BaseDN)
	}
	if err != nil {
		return fmt.Errorf("the service account %s cannot work as serve will: %w (an account that existed before kept its own password)", l.BindDN, err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "ok: %s binds at %s and reads %s: serve will connect\n", l.BindDN, strings.Join(l.URLs, ", "), l.BaseDN)
	return nil
}

// advise adds to an error what to do about it, in this command's flags.
func advise(err error) error {
	switch {
	case errors.Is(err, provision.ErrConfigAccess):
		return fmt.Errorf("%w\nrun as root on the server over ldapi:/// (sudo dcrgate directory init ...), or give --bind-dn and --bind-password-file of cn=config's rootdn", err)
	case errors.Is(err, provision.ErrNeedAdmin):
		return fmt.Errorf("%w\ngive --admin-password-file with its password (--admin-dn to add them as another DN), or apply the entries of --dry-run by hand", err)
	}
	return err
}
