package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/user"

	"github.com/dcrgate/dcrgate/config"
	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/ldapstore"
	"github.com/dcrgate/dcrgate/logging"
	"github.com/dcrgate/dcrgate/registration"
)

// openAdmin reads the configuration at path, as serve does, connects to its
// directory and returns the administrator's use cases, logged as actor,
// the configuration, and the function that closes them. They run on the
// same store, policies and credential rules as serve; no token issuer is
// needed, and software statement issuers are not contacted.
func openAdmin(ctx context.Context, path, actor string) (*registration.Admin, config.Config, func(), error) {
	cfg, err := loadServeConfig(path)
	if err != nil {
		return nil, cfg, nil, err
	}
	logger := logging.New(os.Stderr, cfg.Log.Level, cfg.Log.Format)
	ldapCfg, err := ldapStoreConfig(cfg.LDAP)
	if err != nil {
		return nil, cfg, nil, fmt.Errorf("directory: %w", err)
	}
	st, err := ldapstore.New(ctx, ldapCfg, logger)
	if err != nil {
		return nil, cfg, nil, fmt.Errorf("directory: %w", err)
	}
	trail, closeAudit, err := openAudit(cfg.Audit)
	if err != nil {
		_ = st.Close()
		return nil, cfg, nil, err
	}
	svc, err := adminService(cfg, st, logger, registration.WithAudit(trail))
	if err != nil {
		closeAudit()
		_ = st.Close()
		return nil, cfg, nil, err
	}
	return svc.Admin(actor), cfg, func() { svc.Close(); closeAudit(); _ = st.Close() }, nil
}

// adminService is the registration service as serve wires it, minus what
// only requests need: token validation and software statement issuers.
func adminService(cfg config.Config, st *ldapstore.Store, logger *slog.Logger, options ...registration.Option) (*registration.Service, error) {
	hasher, err := credentials.NewHasher(st.SecretScheme())
	if err != nil {
		return nil, err
	}
	chain, err := buildPolicies(cfg.Policies, st)
	if err != nil {
		return nil, err
	}
	cfg.SoftwareStatements.TrustedIssuers = nil
	opts, err := serviceOptions(cfg, logger)
	if err != nil {
		return nil, err
	}
	options = append(options, registration.WithLogger(logger), registration.WithPolicy(chain))
	return registration.New(st, nil, hasher, opts, options...), nil
}

// defaultActor names the person running the CLI in the audit log: the
// operating system's user, as "cli:name".
func defaultActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}
