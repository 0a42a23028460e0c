package registration

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/iat"
	"github.com/dcrgate/dcrgate/oauth"
)

// StatementVerifier checks software statements; *iat.StatementVerifier is one.
type StatementVerifier interface {
	Verify(ctx context.Context, statement string) (iat.Statement, error)
}

// jwtOnlyClaims are the statement's own JWT claims, not client metadata.
var jwtOnlyClaims = []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "software_statement"}

// applyStatement verifies the request's software statement, if any, and
// returns the body the metadata is read from: the issuer's defaults, then
// the request's members, then the statement's claims, each overriding the
// last (RFC 7591 §2.3: statement values take precedence). Everything then
// goes through the one decode/normalise/policy path. A body that is not a
// JSON object, or whose software_statement is not a string, is returned
// unchanged for that path to refuse with its usual error.
func (s *Service) applyStatement(ctx context.Context, body []byte) ([]byte, *iat.Statement, error) {
	var members map[string]json.RawMessage
	var raw string
	if json.Unmarshal(body, &members) != nil || json.Unmarshal(members["software_statement"], &raw) != nil || raw == "" {
		return body, nil, nil
	}
	// The map above would hide duplicate members and bad types: the body
	// must pass on its own first (required extensions may come later).
	if _, err := client.Decode(body, optionalExtensions(s.opts.Metadata)); err != nil {
		return nil, nil, err
	}
	st, err := s.verifyStatement(ctx, raw)
	if err != nil {
		return nil, nil, err
	}
	merged, err := s.mergeStatement(members, st)
	if err != nil {
		return nil, nil, err
	}
	return merged, &st, nil
}

func (s *Service) verifyStatement(ctx context.Context, raw string) (iat.Statement, error) {
	if s.opts.Statements == nil {
		return iat.Statement{}, oauth.ErrUnapprovedSoftwareStatement.WithDescription("this server trusts no software statement issuer")
	}
	st, err := s.opts.Statements.Verify(ctx, raw)
	switch {
	case errors.Is(err, iat.ErrUntrustedStatement):
		return st, oauth.ErrUnapprovedSoftwareStatement.WithDescription("the software statement's issuer is not trusted for this").WithCause(err)
	case errors.Is(err, iat.ErrUnavailable):
		return st, oauth.ErrTemporarilyUnavailable.WithDescription("the software statement issuer's keys cannot be fetched").WithCause(err)
	case err != nil:
		s.logger.InfoContext(ctx, "software statement rejected", "reason", err)
		return st, oauth.ErrInvalidSoftwareStatement.WithDescription("the software statement is malformed, expired or not signed by its issuer").WithCause(err)
	}
	return st, nil
}

// mergeStatement layers defaults, request members and statement claims.
// The statement's claims are decoded on their own first, so bad metadata
// in them is the statement's fault (invalid_software_statement).
func (s *Service) mergeStatement(members map[string]json.RawMessage, st iat.Statement) ([]byte, error) {
	merged := map[string]json.RawMessage{}
	if len(st.Defaults) > 0 {
		if err := json.Unmarshal(st.Defaults, &merged); err != nil {
			return nil, oauth.From(err)
		}
	}
	for name, v := range members {
		merged[name] = v
	}
	claims := map[string]any{}
	for name, v := range st.Claims {
		if v != nil && !slices.Contains(jwtOnlyClaims, name) {
			claims[name] = v
		}
	}
	data, err := json.Marshal(claims)
	if err != nil {
		return nil, oauth.From(err)
	}
	if _, err := client.Decode(data, optionalExtensions(s.opts.Metadata)); err != nil {
		return nil, oauth.ErrInvalidSoftwareStatement.WithDescription("in the software statement: %s", describe(err)).WithCause(err)
	}
	if err := json.Unmarshal(data, &merged); err != nil {
		return nil, oauth.From(err)
	}
	if _, asked := merged["scope"]; !asked && len(st.Scopes) > 0 {
		merged["scope"], _ = json.Marshal(strings.Join(st.Scopes, " "))
	}
	return json.Marshal(merged)
}

// checkGrantedScopes keeps a client with a statement within the scopes its
// issuer may grant, whichever part of the request asked for them.
func checkGrantedScopes(md client.Metadata, st *iat.Statement) error {
	if st == nil || len(st.Scopes) == 0 {
		return nil
	}
	for _, sc := range strings.Fields(md.Scope) {
		if !slices.Contains(st.Scopes, sc) {
			return oauth.ErrInvalidClientMetadata.WithDescription("scope %q is not granted by the software statement's issuer (it grants: %s)", sc, strings.Join(st.Scopes, " "))
		}
	}
	return nil
}

// optionalExtensions relaxes required extensions, for checking one layer
// of a request that only the merged whole must satisfy.
func optionalExtensions(opts client.Options) client.Options {
	opts.Extensions = slices.Clone(opts.Extensions)
	for i := range opts.Extensions {
		opts.Extensions[i].Required = false
	}
	return opts
}

func describe(err error) string {
	var oe *oauth.Error
	if errors.As(err, &oe) {
		return oe.Description
	}
	return "invalid metadata"
}
