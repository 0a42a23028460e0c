package registration

import (
	"context"
	"errors"
	"time"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/iat"
	"github.com/dcrgate/dcrgate/oauth"
	"github.com/dcrgate/dcrgate/policies"
	"github.com/dcrgate/dcrgate/store"
)

// idAttempts bounds retries on a client ID collision. With 128 random bits a
// collision means a broken random source, not bad luck.
const idAttempts = 3

// Register creates a client from an RFC 7591 §3.1 registration request.
func (s *Service) Register(ctx context.Context, bearer string, body []byte) (Registration, error) {
	principal, err := s.authorizeRegistration(ctx, bearer)
	if err != nil {
		return Registration{}, err
	}
	owner := ownerOf(principal)
	if err := s.checkTokenQuota(ctx, owner); err != nil {
		return Registration{}, err
	}
	body, stmt, err := s.applyStatement(ctx, body)
	if err != nil {
		return Registration{}, err
	}
	md, _, err := s.validMetadata(ctx, body, policies.Request{Operation: string(OpRegister), Principal: principal, Statement: stmt})
	if err != nil {
		return Registration{}, err
	}
	if err := checkGrantedScopes(md, stmt); err != nil {
		return Registration{}, err
	}
	now := s.now()
	rec := client.Record{Metadata: md, IssuedAt: now.Truncate(time.Second), Owner: owner}
	out, err := s.issueCredentials(&rec, now)
	if err != nil {
		return Registration{}, err
	}
	if rec.ID, err = s.create(ctx, rec); err != nil {
		return Registration{}, storeError(err)
	}
	if err := s.enforceTokenQuota(ctx, owner, rec.ID); err != nil {
		return Registration{}, err
	}
	rec.Revision = 1
	s.logger.InfoContext(ctx, "client registered", "client_id", rec.ID, "owner", rec.Owner.Subject)
	return s.present(rec, out), nil
}

// issueCredentials gives a new record its secret (confidential clients)
// and registration access token (when management is on).
func (s *Service) issueCredentials(rec *client.Record, now time.Time) (issued, error) {
	var out issued
	if rec.Metadata.IsConfidential() {
		var err error
		if out.secret, err = s.newSecret(rec, now); err != nil {
			return issued{}, oauth.From(err)
		}
	}
	if s.opts.Management.Enabled {
		out.token = newToken(rec)
	}
	return out, nil
}

// create stores rec under a fresh client ID and returns the ID.
func (s *Service) create(ctx context.Context, rec client.Record) (string, error) {
	var err error
	for range idAttempts {
		rec.ID = credentials.NewClientID()
		if err = s.store.Create(ctx, rec); !errors.Is(err, store.ErrAlreadyExists) {
			return rec.ID, err
		}
	}
	return "", err
}

// validMetadata decodes, normalises and runs the policy chain: the one path
// every registration and update body takes.
func (s *Service) validMetadata(ctx context.Context, body []byte, pr policies.Request) (client.Metadata, client.Request, error) {
	req, err := client.Decode(body, s.opts.Metadata)
	if err != nil {
		return client.Metadata{}, req, err
	}
	md := req.Metadata
	if err := md.Normalize(s.opts.Metadata); err != nil {
		return client.Metadata{}, req, err
	}
	pr.Metadata = &md
	if err := s.policies.Check(ctx, pr); err != nil {
		return client.Metadata{}, req, err
	}
	// A policy may have adjusted the metadata; it must still be valid.
	if err := md.Normalize(s.opts.Metadata); err != nil {
		return client.Metadata{}, req, err
	}
	return md, req, nil
}

// present builds the client information response for a stored record.
func (s *Service) present(r client.Record, out issued) Registration {
	reg := Registration{
		ClientID:                r.ID,
		ClientIDIssuedAt:        r.IssuedAt,
		ClientSecret:            out.secret,
		Confidential:            r.Metadata.IsConfidential(),
		ClientSecretExpiresAt:   r.SecretExpiresAt,
		RegistrationAccessToken: out.token,
		Metadata:                r.Metadata,
	}
	if s.opts.Management.Enabled && s.opts.ClientURI != nil {
		reg.RegistrationClientURI = s.opts.ClientURI(r.ID)
	}
	return reg
}

// ownerOf is who registers: the token's issuer and subject, and the
// token's ID (its jti, or the SHA-256 of an opaque token), by which
// registrations per token are counted.
func ownerOf(p *iat.Principal) client.Owner {
	if p == nil {
		return client.Owner{}
	}
	return client.Owner{Issuer: p.Issuer, Subject: p.Subject, TokenID: p.TokenID}
}
