package iat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
)

// ErrUntrustedStatement: a software statement whose issuer is not
// trusted (RFC 7591 §3.2.2 unapproved_software_statement). Malformed,
// forged or expired statements are ErrInvalidToken instead.
var ErrUntrustedStatement = errors.New("iat: software statement from an untrusted issuer")

// StatementIssuer is one trusted signer of software statements (RFC 7591
// §2.3) and what its statements may bring.
type StatementIssuer struct {
	// JWKSConfig verifies the statements: Issuer, and JWKSURI or an inline
	// JWKS. ExpOptional is always set: statements often never expire.
	JWKSConfig
	// Scopes, when set, are the only scopes a client with this issuer's
	// statement may have, and its scope when neither the statement nor the
	// request asks for one.
	Scopes []string
	// Defaults are client metadata members applied when neither the
	// statement nor the request sets them (a JSON object).
	Defaults []byte
}

// Statement is a verified software statement.
type Statement struct {
	Issuer string
	// Claims are the statement's claims: client metadata values and the
	// JWT's own claims (iss, iat, software_id, ...). Read-only.
	Claims   map[string]any
	Scopes   []string
	Defaults []byte
}

// StatementVerifier verifies software statements from trusted issuers.
type StatementVerifier struct {
	byIssuer map[string]statementIssuer
}

type statementIssuer struct {
	v      *JWKSValidator
	scopes []string
	defs   []byte
}

// NewStatementVerifier starts a key cache per issuer with a jwks_uri; they
// live until ctx ends or Close.
func NewStatementVerifier(ctx context.Context, issuers []StatementIssuer, logger *slog.Logger) (*StatementVerifier, error) {
	sv := &StatementVerifier{byIssuer: make(map[string]statementIssuer, len(issuers))}
	for _, is := range issuers {
		if _, dup := sv.byIssuer[is.Issuer]; dup {
			_ = sv.Close()
			return nil, fmt.Errorf("iat: software statement issuer %q is listed twice", is.Issuer)
		}
		cfg := is.JWKSConfig
		cfg.ExpOptional = true
		v, err := NewJWKSValidator(ctx, cfg, logger)
		if err != nil {
			_ = sv.Close()
			return nil, err
		}
		sv.byIssuer[is.Issuer] = statementIssuer{v: v, scopes: is.Scopes, defs: is.Defaults}
	}
	return sv, nil
}

// Verify checks a statement's signature and claims (RFC 7591 §2.3: a JWS
// that must carry iss) against its issuer's keys. Errors wrap
// ErrUntrustedStatement, ErrInvalidToken or ErrUnavailable. A statement
// whose "scope" asks for more than its issuer may grant is untrusted for
// that use.
func (sv *StatementVerifier) Verify(ctx context.Context, statement string) (Statement, error) {
	iss, err := unverifiedIssuer(statement)
	if err != nil {
		return Statement{}, invalid(err)
	}
	is, ok := sv.byIssuer[iss]
	if !ok {
		return Statement{}, fmt.Errorf("%w: %q", ErrUntrustedStatement, iss)
	}
	p, err := is.v.Validate(ctx, statement)
	if err != nil {
		return Statement{}, err
	}
	st := Statement{Issuer: iss, Claims: p.Claims, Scopes: is.scopes, Defaults: is.defs}
	if len(is.scopes) > 0 {
		for _, s := range p.Scopes {
			if !slices.Contains(is.scopes, s) {
				return Statement{}, fmt.Errorf("%w: %q may not grant scope %q", ErrUntrustedStatement, iss, s)
			}
		}
	}
	return st, nil
}

// Close stops the key caches.
func (sv *StatementVerifier) Close() error {
	var errs []error
	for _, is := range sv.byIssuer {
		errs = append(errs, is.v.Close())
	}
	return errors.Join(errs...)
}
