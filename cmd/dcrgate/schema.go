package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dcrgate/dcrgate/config"
	"github.com/dcrgate/dcrgate/schema"
	"github.com/dcrgate/dcrgate/schema/live"
)

// errSchemaMismatch makes `schema check` exit non-zero after printing its
// table.
var errSchemaMismatch = errors.New("the directory's schema does not match what this version needs")

func newSchemaCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "schema", Short: "Print the directory schema dcrgate needs, or check a directory against it"}
	cmd.AddCommand(newSchemaPrintCommand(), newSchemaCheckCommand())
	return cmd
}

func newSchemaPrintCommand() *cobra.Command {
	var dialect string
	print := &cobra.Command{
		Use:   "print",
		Short: "Write the schema in one directory's format to stdout",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, d := range schema.Dialects {
				if d.Name() == dialect {
					b, err := schema.Committed(d)
					if err != nil {
						return err
					}
					_, err = cmd.OutOrStdout().Write(b)
					return err
				}
			}
			return fmt.Errorf("unknown dialect %q (known: %s)", dialect, strings.Join(dialectNames(), ", "))
		},
	}
	print.Flags().StringVar(&dialect, "dialect", schema.Dialects[0].Name(), "one of: "+strings.Join(dialectNames(), ", "))
	return print
}

func newSchemaCheckCommand() *cobra.Command {
	var path string
	check := &cobra.Command{
		Use:   "check",
		Short: "Compare the schema installed in the configured directory with the one this version needs",
		Long: `check binds with the ldap settings of the configuration file, reads the
server's subschema entry and prints, element by element, whether each dcr*
attribute type and the dcrClient object class are installed as this version
needs them. It exits non-zero on any mismatch.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Read(path, os.LookupEnv)
			if err != nil {
				return err
			}
			return checkSchema(cmd, cfg.LDAP)
		},
	}
	check.Flags().StringVarP(&path, "config", "c", "dcrgate.yaml", "configuration file")
	return check
}

// checkSchema is the I/O around schema.Check: dial, read, print.
func checkSchema(cmd *cobra.Command, l config.LDAP) error {
	conn, err := live.Dial(cmd.Context(), l)
	if err != nil {
		return fmt.Errorf("connect to the directory: %w", err)
	}
	defer conn.Close()
	srv, err := live.Read(conn)
	if err != nil {
		return err
	}
	for _, e := range srv.Unreadable {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning: skipped", e)
	}
	report := schema.Check(schema.Definition(), srv.Installed, srv.Options())
	fmt.Fprintf(cmd.OutOrStdout(), "installed schema (%s) against dcrgate %s:\n", srv.SubschemaDN, version)
	if err := report.WriteTable(cmd.OutOrStdout()); err != nil {
		return err
	}
	if !report.OK() {
		return errSchemaMismatch
	}
	return nil
}

func dialectNames() []string {
	var names []string
	for _, d := range schema.Dialects {
		names = append(names, d.Name())
	}
	return names
}
