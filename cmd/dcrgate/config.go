package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/dcrgate/dcrgate/config"
)

func newConfigCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Work with configuration files"}
	var path string
	check := &cobra.Command{
		Use:   "check",
		Short: "Validate a configuration file (and DCRGATE_* variables) for serve, listing every problem",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadServeConfig(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (registration enabled: %t, management enabled: %t)\n",
				path, cfg.Registration.Enabled, cfg.Management.Enabled)
			return nil
		},
	}
	check.Flags().StringVarP(&path, "config", "c", "dcrgate.yaml", "configuration file")
	cmd.AddCommand(check)
	return cmd
}

// loadServeConfig reads path and the environment and validates the result
// for production, reporting every problem at once.
func loadServeConfig(path string) (config.Config, error) {
	cfg, err := config.Read(path, os.LookupEnv)
	if err != nil {
		return cfg, err
	}
	err = cfg.ValidateForServe()
	if _, perr := buildPolicies(cfg.Policies, nil); perr != nil {
		err = errors.Join(err, perr)
	}
	if err != nil {
		return cfg, fmt.Errorf("invalid configuration %s:\n%w", path, err)
	}
	return cfg, nil
}
