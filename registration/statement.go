package registration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/iat"
	"github.com/dcrgate/dcrgate/oauth"
	"github.com/dcrgate/dcrgate/policies"
)

// StatementVerifier checks software statements; *iat.StatementVerifier is one.
type StatementVerifier interface {
	Verify(ctx context.Context, statement string) (iat.Statement, error)
}

// jwtOnlyClaims are the statement's own JWT claims and the members only the
// server sets (RFC 7591 §3.2.1): not client metadata, so never taken from a
// statement — a client_id claim must not rename the client an update is for.
var jwtOnlyClaims = []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "software_statement",
	"client_id", "client_secret", "client_id_issued_at", "client_secret_expires_at",
	"registration_access_token", "registration_client_uri"}

// composed is a request body with what the server layers around it.
type composed struct {
	// body is what the metadata is decoded from.
	body []byte
	// statement governs the client: the request's, verified, or the one it
	// keeps; nil when none.
	statement *client.Statement
	// defaulted names the members only the defaults policies supplied.
	defaulted []string
}

// compose returns the body the metadata is read from, layered: the
// defaults policies' members for this caller (PingFederate's "Client
// Configuration Defaults"), then the software statement issuer's
// defaults, then the request's members, then the statement's claims, each
// overriding the last (RFC 7591 §2.3: statement values take precedence).
// The statement is the one the request carries, verified, or else kept,
// the one the client was registered with (an RFC 7592 update need not
// send it again, and must not escape it). Everything then goes through
// the one decode/normalise/policy path. A body that is not a JSON object,
// or whose software_statement is not a string, is returned unchanged for
// that path to refuse with its usual error; one with nothing to layer is
// returned unchanged too, unparsed.
func (s *Service) compose(ctx context.Context, body []byte, kept *client.Statement, caller policies.Request) (composed, error) {
	defaults := s.defaultsFor(caller)
	if kept == nil && len(defaults) == 0 && !bytes.Contains(body, []byte(`"software_statement"`)) {
		return composed{body: body}, nil
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(body, &members) != nil {
		return composed{body: body, statement: kept}, nil
	}
	var raw string
	if json.Unmarshal(members["software_statement"], &raw) == nil && raw != "" {
		// The map above would hide duplicate members and bad types: the body
		// must pass on its own first (required extensions may come later).
		if _, err := client.Decode(body, optionalExtensions(s.opts.Metadata)); err != nil {
			return composed{}, err
		}
		st, err := s.verifyStatement(ctx, raw)
		if err != nil {
			return composed{}, err
		}
		if kept, err = s.keptStatement(st); err != nil {
			return composed{}, err
		}
	}
	return layer(defaults, members, kept)
}

// defaultsFor is what the defaults policies fill in for caller.
func (s *Service) defaultsFor(caller policies.Request) map[string]json.RawMessage {
	if d, ok := s.policies.(interface {
		Defaults(policies.Request) map[string]json.RawMessage
	}); ok {
		return d.Defaults(caller)
	}
	return nil
}

// layer stacks defaults, the statement's defaults, the request's members
// and the statement's claims; a request that asks for no scope gets the
// scopes the statement's issuer grants.
func layer(defaults, members map[string]json.RawMessage, st *client.Statement) (composed, error) {
	merged := maps.Clone(defaults)
	if merged == nil {
		merged = map[string]json.RawMessage{}
	}
	above := map[string]json.RawMessage{}
	if st != nil {
		if err := overlay(above, st.Defaults); err != nil {
			return composed{}, err
		}
	}
	maps.Copy(above, members)
	if st != nil {
		if err := overlay(above, st.Claims); err != nil {
			return composed{}, err
		}
		if _, asked := above["scope"]; !asked && len(st.Scopes) > 0 {
			above["scope"], _ = json.Marshal(strings.Join(st.Scopes, " "))
		}
	}
	var defaulted []string
	for name := range defaults {
		if _, set := above[name]; !set {
			defaulted = append(defaulted, name)
		}
	}
	maps.Copy(merged, above)
	body, err := json.Marshal(merged)
	if err != nil {
		return composed{}, oauth.From(err)
	}
	slices.Sort(defaulted)
	return composed{body: body, statement: st, defaulted: defaulted}, nil
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

// keptStatement is what a client keeps of a verified statement: its
// issuer, its metadata claims, the scopes its issuer grants and the
// issuer's defaults. The claims are decoded on their own first, so bad
// metadata in them is the statement's fault (invalid_software_statement).
func (s *Service) keptStatement(st iat.Statement) (*client.Statement, error) {
	claims := maps.Clone(st.Claims)
	maps.DeleteFunc(claims, func(name string, v any) bool { return v == nil || slices.Contains(jwtOnlyClaims, name) })
	data, err := json.Marshal(claims)
	if err != nil {
		return nil, oauth.From(err)
	}
	if _, err := client.Decode(data, optionalExtensions(s.opts.Metadata)); err != nil {
		return nil, oauth.ErrInvalidSoftwareStatement.WithDescription("in the software statement: %s", describe(err)).WithCause(err)
	}
	return &client.Statement{Issuer: st.Issuer, Claims: data, Scopes: slices.Clone(st.Scopes), Defaults: st.Defaults}, nil
}

// overlay sets the members of the JSON object layer (if any) in merged.
func overlay(merged map[string]json.RawMessage, layer json.RawMessage) error {
	if len(layer) == 0 {
		return nil
	}
	if err := json.Unmarshal(layer, &merged); err != nil {
		return oauth.From(err)
	}
	return nil
}

// checkGrantedScopes keeps a client with a statement within the scopes its
// issuer may grant, whichever part of the request asked for them.
func checkGrantedScopes(md client.Metadata, st *client.Statement) error {
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
