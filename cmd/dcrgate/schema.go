package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dcrgate/dcrgate/schema"
)

func newSchemaCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "schema", Short: "Print the directory schema dcrgate needs"}
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
	cmd.AddCommand(print)
	return cmd
}

func dialectNames() []string {
	var names []string
	for _, d := range schema.Dialects {
		names = append(names, d.Name())
	}
	return names
}
