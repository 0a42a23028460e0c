package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dcrgate/dcrgate/iat/devissuer"
)

// trialIssuer is the default issuer of trial tokens: a name in the
// .invalid top-level domain (RFC 2606), which no real authorization server
// can ever have, so a trial token is never mistaken for one.
const trialIssuer = "https://trial.dcrgate.invalid"

// newTokenCommand makes initial access tokens for trying `serve` without
// an authorization server: a key pair in two files, the public half named
// in the configuration (jwks_file), the private half signing tokens.
func newTokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Make initial access tokens for a trial of serve without an authorization server (NOT for production)",
		Long: `token makes a signing key pair and initial access tokens signed with it, so that
serve can be tried before an authorization server is set up:

  dcrgate token keygen --key trial-key.pem --jwks trial-jwks.json
  # in dcrgate.yaml:  initial_access_tokens.issuers:
  #                     - issuer: ` + trialIssuer + `
  #                       jwks_file: trial-jwks.json
  dcrgate token mint --key trial-key.pem --subject alice --scope dcr

Not for production: whoever holds the key file can register clients, and
tokens cannot be revoked. In production, initial access tokens come from your
authorization server (see the README).`,
	}
	cmd.AddCommand(newKeygenCommand(), newMintCommand())
	return cmd
}

func newKeygenCommand() *cobra.Command {
	var keyPath, jwksPath string
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Make an ES256 key pair: the private key (PEM) and its public JWK Set",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				return err
			}
			issuer, err := devissuer.FromKey(trialIssuer, priv)
			if err != nil {
				return err
			}
			der, err := x509.MarshalPKCS8PrivateKey(priv)
			if err != nil {
				return err
			}
			if err := writeNew(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
				return err
			}
			if err := writeNew(jwksPath, issuer.JWKS(), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (private: keep it to yourself) and %s (public: name it as jwks_file of the issuer %s)\n",
				keyPath, jwksPath, trialIssuer)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "trial-key.pem", "where to write the private key")
	cmd.Flags().StringVar(&jwksPath, "jwks", "trial-jwks.json", "where to write the public JWK Set")
	return cmd
}

func newMintCommand() *cobra.Command {
	var keyPath, issuer, subject string
	var scopes []string
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "mint",
		Short: "Print an initial access token signed with a key from keygen",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			priv, err := readKey(keyPath)
			if err != nil {
				return err
			}
			iss, err := devissuer.FromKey(issuer, priv)
			if err != nil {
				return err
			}
			token, err := iss.Mint(subject, scopes, ttl)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), token)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "trial-key.pem", "the private key from keygen")
	cmd.Flags().StringVar(&issuer, "issuer", trialIssuer, `the token's "iss": the issuer named in the configuration`)
	cmd.Flags().StringVar(&subject, "subject", "trial-developer", `the token's "sub": who registers`)
	cmd.Flags().StringSliceVar(&scopes, "scope", []string{"dcr"}, "the token's scopes (one of registration.required_scopes)")
	cmd.Flags().DurationVar(&ttl, "ttl", time.Hour, "how long the token is valid")
	return cmd
}

// writeNew writes data to a file that must not exist yet: a key pair is
// never overwritten by accident.
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// readKey reads the PEM private key keygen wrote.
func readKey(path string) (*ecdsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || !strings.Contains(block.Type, "PRIVATE KEY") {
		return nil, fmt.Errorf("%s: not a PEM private key", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	priv, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New(path + ": not an ECDSA key")
	}
	return priv, nil
}
