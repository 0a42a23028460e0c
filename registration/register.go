package registration

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/dcrgate/dcrgate/audit"
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
func (s *Service) Register(ctx context.Context, bearer string, body []byte) (_ Registration, err error) {
	ev := audit.Event{Operation: string(OpRegister)}
	defer func() { s.record(ctx, ev, err) }()
	caller := ctx
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	anonymous := bearer == "" && s.opts.Anonymous.Enabled
	if err := s.limitRegistration(ctx, anonymous); err != nil {
		return Registration{}, err
	}
	principal, err := s.authorizeRegistration(ctx, bearer)
	if err != nil {
		return Registration{}, err
	}
	owner, err := ownerOf(principal)
	if err != nil {
		return Registration{}, err
	}
	owner.Anonymous = anonymous
	ev.OwnerIssuer, ev.OwnerSubject = owner.Issuer, owner.Subject
	if err := limit(s.limits.owner, "registration_per_owner", ownerKey(owner)); err != nil {
		return Registration{}, err
	}
	if err := s.checkTokenQuota(ctx, owner); err != nil {
		return Registration{}, err
	}
	callerReq := policies.Request{Principal: principal, Anonymous: anonymous}
	c, err := s.compose(ctx, body, nil, callerReq)
	if err != nil {
		return Registration{}, err
	}
	pr := s.policyRequest(OpRegister, "", callerReq, c.statement)
	md, _, err := s.validMetadata(ctx, c.body, pr)
	if err != nil {
		return Registration{}, err
	}
	if err := checkGrantedScopes(md, c.statement); err != nil {
		return Registration{}, err
	}
	now := s.now()
	rec := client.Record{Metadata: md, IssuedAt: now.Truncate(time.Second), Owner: owner, Statement: c.statement,
		Defaulted: c.defaulted}
	pr.Metadata = &md
	s.holdForApproval(ctx, &rec, pr)
	s.touch(&rec, now)
	out, err := s.issueCredentials(&rec, now)
	if err != nil {
		return Registration{}, err
	}
	if rec.ID, err = s.create(ctx, rec); err != nil {
		return Registration{}, storeError(err)
	}
	ev.ClientID, ev.Issued = rec.ID, out.names()
	if rec.Disabled {
		ev.Reason = rec.DisabledReason
	}
	rec.Revision = 1
	if err := s.enforceTokenQuota(ctx, rec); err != nil {
		return Registration{}, err
	}
	if err := s.deliverable(caller, rec); err != nil {
		return Registration{}, err
	}
	return s.present(rec, out), nil
}

// holdForApproval stores a client an approval policy matches disabled,
// until an administrator enables it.
func (s *Service) holdForApproval(ctx context.Context, rec *client.Record, pr policies.Request) {
	a, ok := s.policies.(interface {
		Approval(context.Context, policies.Request) string
	})
	if !ok {
		return
	}
	if name := a.Approval(ctx, pr); name != "" {
		rec.Disabled, rec.DisabledReason = true, awaitingApproval+" (policy "+name+")"
	}
}

// deliverable withdraws a registration whose caller has gone (its request
// was cancelled: the connection closed) before the answer could be sent:
// nobody would ever hold its credentials, yet it would count against the
// caller's quotas. A deadline of dcrgate's own is no such sign: the caller
// is still there to receive the client.
func (s *Service) deliverable(caller context.Context, rec client.Record) error {
	if caller.Err() == nil {
		return nil
	}
	s.orphans.later(rec)
	return oauth.ErrTemporarilyUnavailable.WithDescription("the request was cancelled before the client could be returned").WithCause(caller.Err())
}

// issueCredentials gives a new record its secret (confidential clients)
// and registration access token (when management is on).
func (s *Service) issueCredentials(rec *client.Record, now time.Time) (issued, error) {
	var out issued
	if rec.Metadata.IsConfidential() {
		var err error
		if out.secret, err = s.newSecret(rec, now, false); err != nil {
			return issued{}, oauth.From(err)
		}
	}
	if s.opts.Management.Enabled {
		out.token = s.newToken(rec, now, client.NoTokenMatch)
	}
	return out, nil
}

// create stores rec under a fresh client ID and returns the ID. A Create
// whose outcome is unknown (the directory stopped answering while it was
// in flight) may still be applied: it is handed to the orphans, which
// remove it once the directory answers, since its caller is told it failed.
func (s *Service) create(ctx context.Context, rec client.Record) (string, error) {
	var err error
	for range idAttempts {
		rec.ID = credentials.NewClientID()
		err = s.store.Create(ctx, rec)
		if errors.Is(err, store.ErrUnavailable) {
			s.orphans.later(rec)
		}
		if !errors.Is(err, store.ErrAlreadyExists) {
			return rec.ID, err
		}
	}
	return "", err
}

// validMetadata decodes a registration or update body and judges it: the
// one path every such body takes.
func (s *Service) validMetadata(ctx context.Context, body []byte, pr policies.Request) (client.Metadata, client.Request, error) {
	req, err := client.Decode(body, s.opts.Metadata)
	if err != nil {
		return client.Metadata{}, req, err
	}
	md, err := s.judge(ctx, req.Metadata, pr)
	return md, req, err
}

// judge normalises decoded metadata and runs the anonymous profile, the
// policy chain and the sector_identifier_uri check on it.
func (s *Service) judge(ctx context.Context, md client.Metadata, pr policies.Request) (client.Metadata, error) {
	if err := md.Normalize(s.opts.Metadata); err != nil {
		return client.Metadata{}, err
	}
	if pr.Anonymous {
		if err := s.opts.Anonymous.check(md); err != nil {
			return client.Metadata{}, err
		}
	}
	pr.Metadata = &md
	if err := s.policies.Check(ctx, pr); err != nil {
		return client.Metadata{}, err
	}
	// A policy may have adjusted the metadata; it must still be valid.
	if err := md.Normalize(s.opts.Metadata); err != nil {
		return client.Metadata{}, err
	}
	return md, s.checkSector(ctx, md)
}

// policyRequest is what the policies judge of caller's request, before the
// metadata is added.
func (s *Service) policyRequest(op Operation, clientID string, caller policies.Request, stmt *client.Statement) policies.Request {
	caller.Operation, caller.ClientID, caller.Statement = string(op), clientID, stmt
	return caller
}

// limitRegistration applies the per-address limit of registrations with a
// token, or of those the anonymous profile judges.
func (s *Service) limitRegistration(ctx context.Context, anonymous bool) error {
	if anonymous {
		return limitAddress(ctx, s.limits.anonymousIP, "anonymous_per_ip")
	}
	return limitAddress(ctx, s.limits.registrationIP, "registration_per_ip")
}

// ownerKey names a token's owner for the per-owner limit; "" (no limit)
// for registrations without a token.
func ownerKey(o client.Owner) string {
	if o.Issuer == "" && o.Subject == "" {
		return ""
	}
	return o.Issuer + "\n" + o.Subject
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
		AwaitingApproval:        AwaitingApproval(r),
	}
	if s.opts.Management.Enabled && s.opts.ClientURI != nil && !client.IsMetadataDocumentID(r.ID) {
		reg.RegistrationClientURI = s.opts.ClientURI(r.ID)
	}
	return reg
}

// ownerOf is who registers: the initial access token's principal — its
// issuer and subject, its ID (jti, or the SHA-256 of an opaque token) by
// which registrations per token are counted, and the client, scopes and
// claims the policies judge, now and on every later update.
func ownerOf(p *iat.Principal) (client.Owner, error) {
	if p == nil {
		return client.Owner{}, nil
	}
	o := client.Owner{Issuer: p.Issuer, Subject: p.Subject, TokenID: p.TokenID, ClientID: p.ClientID, Scopes: p.Scopes}
	if len(p.Claims) > 0 {
		claims, err := json.Marshal(p.Claims)
		if err != nil {
			return client.Owner{}, oauth.ErrInvalidToken.WithDescription("the initial access token's claims cannot be kept").WithCause(err)
		}
		o.Claims = claims
	}
	return o, nil
}

// principalOf is the principal the policies judge an update of a client
// owned by o with: the caller that registered it. nil for a client
// registered openly, without a token.
func principalOf(o client.Owner) *iat.Principal {
	if o.Issuer == "" && o.Subject == "" && o.TokenID == "" {
		return nil
	}
	p := &iat.Principal{Issuer: o.Issuer, Subject: o.Subject, TokenID: o.TokenID, ClientID: o.ClientID, Scopes: o.Scopes}
	if len(o.Claims) > 0 && json.Unmarshal(o.Claims, &p.Claims) != nil {
		p.Claims = nil // an unreadable claim makes a rule that reads it fail closed
	}
	return p
}
