package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dcrgate/dcrgate/config"
	"github.com/dcrgate/dcrgate/ldapstore"
)

// startupRules are the steps of serve's start that can fail on the
// configuration without a network — files it loads, keys it parses,
// policies it compiles — run through the functions serve itself runs, so
// that `config check` passes exactly when serve would start (short of the
// network, which --probe tries) and serve refuses, before it connects to
// anything, with the same list.
var startupRules = []config.Rule{ldapTLSProblems, issuerProblems, statementProblems, policyProblems, auditProblems, fetchProblems}

// fetchProblems builds the document fetcher as serve does, loading
// fetch.ca_file.
func fetchProblems(c config.Config) []config.Problem {
	if _, err := documentFetcher(c.Fetch); err != nil {
		return []config.Problem{problemIn("fetch", err)}
	}
	return nil
}

// keyError is a start-up failure caused by one configuration key, named
// relative to its section (the "jwks" of a software statement issuer), so
// that config check can point at that key's line.
type keyError struct {
	key string
	err error
}

func (e keyError) Error() string { return e.key + ": " + e.err.Error() }
func (e keyError) Unwrap() error { return e.err }

// problemIn is err, from building section, as a problem at its key.
func problemIn(section string, err error) config.Problem {
	var ke keyError
	if errors.As(err, &ke) {
		return config.Problem{Key: section + "." + ke.key, Message: ke.err.Error()}
	}
	return config.Problem{Key: section, Message: err.Error()}
}

// ldapTLSProblems loads the directory's TLS files as serve does. When that
// fails, the CA and the client certificate are loaded apart, so that both
// are reported, each at its key.
func ldapTLSProblems(c config.Config) []config.Problem {
	l := c.LDAP
	_, err := ldapStoreConfig(l)
	if err == nil {
		return nil
	}
	var out []config.Problem
	if _, caErr := ldapstore.TLSConfig(l.CAFile, "", "", false); caErr != nil {
		out = append(out, config.Problem{Key: "ldap.ca_file", Message: caErr.Error()})
	}
	if _, certErr := ldapstore.TLSConfig("", l.ClientCertFile, l.ClientKeyFile, false); certErr != nil {
		out = append(out, config.Problem{Key: clientCertKey(certErr, l.ClientKeyFile), Message: certErr.Error()})
	}
	if len(out) == 0 {
		out = append(out, config.Problem{Key: "ldap", Message: err.Error()})
	}
	return out
}

// clientCertKey blames the key file when it is the one that could not be
// opened, else the certificate (tls.LoadX509KeyPair reads both at once).
func clientCertKey(err error, keyFile string) string {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == keyFile {
		return "ldap.client_key_file"
	}
	return "ldap.client_cert_file"
}

// issuerProblems loads what each token issuer needs from files as serve
// does: its jwks_file, and its introspection client's private_key_jwt key.
func issuerProblems(c config.Config) []config.Problem {
	var out []config.Problem
	for i, is := range c.InitialAccessTokens.Issuers {
		section := fmt.Sprintf("initial_access_tokens.issuers[%d]", i)
		if is.JWKSFile != "" {
			if _, err := jwksFromFile(is.JWKSFile); err != nil {
				out = append(out, problemIn(section, err))
			}
		}
		if is.IntrospectionEndpoint != "" {
			if _, err := introspectionAuth(is.Introspection); err != nil {
				out = append(out, problemIn(section, err))
			}
		}
	}
	return out
}

// statementProblems parses each software statement issuer's inline JWKS
// and defaults as serve does.
func statementProblems(c config.Config) []config.Problem {
	var out []config.Problem
	for i, is := range c.SoftwareStatements.TrustedIssuers {
		if _, err := statementIssuer(is); err != nil {
			out = append(out, problemIn(fmt.Sprintf("software_statements.trusted_issuers[%d]", i), err))
		}
	}
	return out
}

// policyProblems builds each policy alone with serve's buildPolicies, so
// that each failure is placed at its own policy.
func policyProblems(c config.Config) []config.Problem {
	var out []config.Problem
	for i := range c.Policies {
		if _, err := buildPolicies(c.Policies[i:i+1], nil); err != nil {
			out = append(out, config.Problem{Key: fmt.Sprintf("policies[%d]", i), Message: policyReason(err).Error()})
		}
	}
	return out
}

// policyReason is the reason inside policies.Build's joined
// "policies[0] (name): reason", whose index and name the key and the
// line already give.
func policyReason(err error) error {
	if joined, ok := err.(interface{ Unwrap() []error }); ok && len(joined.Unwrap()) == 1 {
		err = joined.Unwrap()[0]
	}
	if inner := errors.Unwrap(err); inner != nil {
		return inner
	}
	return err
}

// auditProblems checks that serve will be able to append to an audit
// file, without creating it: an existing file must open for appending, a
// new one needs its directory (whose permissions are left to serve).
func auditProblems(c config.Config) []config.Problem {
	switch c.Audit.Output {
	case "", "off", "stderr", "stdout": // see openAudit
		return nil
	}
	if err := appendable(c.Audit.Output); err != nil {
		return []config.Problem{{Key: "audit.output", Message: err.Error()}}
	}
	return nil
}

func appendable(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	dir, err := os.Stat(filepath.Dir(path))
	switch {
	case err != nil:
		return err
	case !dir.IsDir():
		return fmt.Errorf("%s is not a directory", filepath.Dir(path))
	}
	return nil
}
