package ldapstore

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
)

// TLSConfig builds the client TLS settings for ldaps:// and StartTLS from
// the file paths in config.LDAP: caFile (PEM; empty uses the system roots),
// an optional client certificate and key (both or neither), and
// insecureSkipVerify, which New logs loudly. It returns nil, nil when
// nothing is set, which means system roots and no client certificate.
func TLSConfig(caFile, certFile, keyFile string, insecureSkipVerify bool) (*tls.Config, error) {
	if caFile == "" && certFile == "" && keyFile == "" && !insecureSkipVerify {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecureSkipVerify} //nolint:gosec // opt-in, warned about
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("ldapstore: CA file: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ldapstore: CA file %s holds no PEM certificate", caFile)
		}
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("ldapstore: a client certificate needs both a certificate file and a key file")
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("ldapstore: client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// tlsFor returns the TLS settings for one server URL, with ServerName set
// to its host: StartTLS, unlike tls.Dial, does not fill it in, and without
// it the certificate's name is not checked.
func tlsFor(base *tls.Config, rawURL string) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if base != nil {
		cfg = base.Clone()
	}
	if cfg.ServerName == "" {
		if u, err := url.Parse(rawURL); err == nil {
			cfg.ServerName = u.Hostname()
		}
	}
	return cfg
}
