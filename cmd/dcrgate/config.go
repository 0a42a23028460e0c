package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/dcrgate/dcrgate/config"
)

func newConfigCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Work with configuration files"}
	var path string
	var probe bool
	check := &cobra.Command{
		Use:   "check",
		Short: "Validate a configuration file (and DCRGATE_* variables) for serve, listing every problem",
		Long: `check reads the configuration as serve does and lists every problem at once,
one a line, sorted by line: "file:line: key: message". It runs the start-up
steps of serve that need no network (secret files, TLS files, the
private_key_jwt key, inline JWKS, policies, the audit file) and exits 0 only
for a configuration serve would start with. --probe also connects and binds
to each LDAP URL and fetches each issuer's JWKS or discovery document (3s
each); what fails is printed as "warning: ..." and does not change the exit
status.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rules := startupRules
			if probe {
				rules = append(slices.Clone(rules), probeRule(cmd.Context()))
			}
			cfg, problems := config.Check(path, os.LookupEnv, rules...)
			return reportCheck(cmd.OutOrStdout(), path, cfg, problems)
		},
	}
	check.Flags().StringVarP(&path, "config", "c", "dcrgate.yaml", "configuration file")
	check.Flags().BoolVar(&probe, "probe", false, "also try the LDAP URLs and the issuers' keys, warning about what fails")
	cmd.AddCommand(check, newASMetadataCommand())
	return cmd
}

func newASMetadataCommand() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "as-metadata",
		Short: "Print the members the authorization server publishes for dcrgate in its RFC 8414 metadata",
		Long: `as-metadata prints, as a JSON object, the authorization server metadata
members (RFC 8414) that describe this gateway: registration_endpoint, and
client_id_metadata_document_supported when metadata_documents is enabled. The
AS serves its own metadata document; merge these members into it so that
clients (MCP clients among them) find registration, and know URL client IDs
are accepted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadServeConfig(path)
			if err != nil {
				return err
			}
			members, err := asMetadata(cfg)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(members)
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "dcrgate.yaml", "configuration file")
	return cmd
}

// asMetadata is what the AS's metadata must say of this gateway.
func asMetadata(cfg config.Config) (map[string]any, error) {
	if !cfg.Registration.Enabled {
		return nil, errors.New("registration is not enabled: the authorization server has nothing of dcrgate's to publish")
	}
	if cfg.ExternalURL == "" {
		return nil, errors.New("external_url is not set: the registration endpoint's public URL is unknown")
	}
	members := map[string]any{"registration_endpoint": cfg.ExternalURL + cfg.Registration.Path}
	if cfg.MetadataDocuments.Enabled {
		members["client_id_metadata_document_supported"] = true
	}
	return members, nil
}

// reportCheck prints the problems, then the warnings, and fails when there
// is a problem.
func reportCheck(out io.Writer, path string, cfg config.Config, all []config.Problem) error {
	var problems int
	for _, p := range all {
		if !p.Warning {
			problems++
			fmt.Fprintln(out, p.Error())
		}
	}
	for _, p := range all {
		if p.Warning {
			fmt.Fprintln(out, "warning: "+p.Error())
		}
	}
	if problems > 0 {
		return fmt.Errorf("%s: %s: serve would not start", path, count(problems, "problem"))
	}
	fmt.Fprintf(out, "%s: ok (registration enabled: %t, management enabled: %t)\n",
		path, cfg.Registration.Enabled, cfg.Management.Enabled)
	return nil
}

// loadServeConfig reads path and the environment and runs config check's
// offline checks, so that serve refuses a configuration with the same
// list of problems, before it connects to anything.
func loadServeConfig(path string) (config.Config, error) {
	cfg, problems := config.Check(path, os.LookupEnv, startupRules...)
	if len(problems) > 0 {
		return cfg, fmt.Errorf("invalid configuration %s:\n%w", path, config.Problems(problems))
	}
	return cfg, nil
}

// count is "1 problem" or "n problems".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
