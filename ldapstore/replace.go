package ldapstore

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/schema"
	"github.com/dcrgate/dcrgate/store"
)

// replyAttrs are what ReplaceIfTokenHash asks Post-Read for: the
// server-side state the Modify did not send. What it sent (metadata,
// credentials) is taken from the request, not read back and decoded again:
// slapd's cost of a Post-Read and dcrgate's of decoding it grow with every
// attribute. userPassword is added when the directory hashes secrets itself
// and so changes what was sent.
var replyAttrs = []string{schema.AttrRevision, schema.AttrOwnerIssuer, schema.AttrOwnerSubject,
	schema.AttrOwnerTokenID, schema.AttrIssuedAt, schema.AttrSecretExpiresAt, schema.AttrExpiresAt,
	schema.AttrDisabled}

// ReplaceIfTokenHash implements store.TokenReplacer. With the Assertion and
// Post-Read controls and Modify-Increment it is one Modify: asserting
// (dcrRegistrationTokenHash=tokenHash), replacing the metadata, every
// searchable copy and the credentials, adding 1 to dcrRevision (RFC 4525)
// and reading back the entry for the rest of the record. A failed
// assertion (122) is a wrong token or a rotation that got in first. Without
// them, or for an entry with no dcrRevision to increment, it is Update with
// a constant-time token check.
func (s *Store) ReplaceIfTokenHash(ctx context.Context, id, tokenHash string, rep store.Replacement) (client.Record, error) {
	if tokenHash == "" {
		return client.Record{}, errMismatch
	}
	if !validID(id) {
		return client.Record{}, fmt.Errorf("%w: %w", store.ErrNotFound, ErrInvalidID)
	}
	if r, err := s.replaceKnown(ctx, id, tokenHash, rep); !errors.Is(err, errUnknownState) {
		return r, err
	}
	if !s.assertion.Load() || !s.postRead.Load() || !s.increment.Load() {
		return s.Update(ctx, id, store.ReplaceFunc(tokenHash, rep))
	}
	req, sent, err := s.replaceRequest(id, tokenHash, rep)
	if err != nil {
		return client.Record{}, err
	}
	var res *ldap.ModifyResult
	err = s.pool.do(ctx, opModify, func(conn *ldap.Conn) (err error) {
		res, err = conn.ModifyWithResult(req)
		return err
	})
	if r, applied, unknown := s.appliedEarlier(ctx, err, id, rotationWitness(tokenHash, rep.TokenHash)); applied || unknown != nil {
		return r, unknown
	}
	if ldap.IsErrorWithCode(err, ldap.LDAPResultAssertionFailed) {
		return client.Record{}, errMismatch
	}
	if err := s.guardError("replace", id, err, false); errors.Is(err, errLostRace) {
		// No dcrRevision to increment (an entry written by hand), or a server
		// that refused the assertion after all.
		return s.Update(ctx, id, store.ReplaceFunc(tokenHash, rep))
	} else if err != nil {
		return client.Record{}, err
	}
	return s.replaced(ctx, id, res, rep, sent)
}

// replaceRequest builds the one Modify of ReplaceIfTokenHash and returns,
// with it, the credential attributes it writes as the entry will hold them
// (the client ID and the token hash the entry keeps included). Replacing an
// attribute with no values deletes it, or does nothing if it is absent (RFC
// 4511 §4.6), so no stale copy or secret survives whatever the entry held.
func (s *Store) replaceRequest(id, tokenHash string, rep store.Replacement) (*ldap.ModifyRequest, attrs, error) {
	next := client.Record{ID: id, RegistrationTokenHash: tokenHash}
	rep.Apply(&next)
	a, err := encode(next)
	if err != nil {
		return nil, nil, err
	}
	w, err := s.wire(a)
	if err != nil {
		return nil, nil, err
	}
	reply := s.layout.attrs(replyAttrs)
	sent := attrs{schema.AttrClientID: a[schema.AttrClientID], schema.AttrRegistrationTokenHash: a[schema.AttrRegistrationTokenHash]}
	if serverHashes(a) {
		reply = append(reply, s.layout.attr(schema.AttrUserPassword), s.layout.attr(schema.AttrRetainedSecret))
	} else {
		sent[schema.AttrUserPassword] = a[schema.AttrUserPassword]
	}
	req := ldap.NewModifyRequest(s.dn(id), []ldap.Control{newEqualityAssertion(schema.AttrRegistrationTokenHash, tokenHash),
		&postReadControl{attributes: reply}})
	replaced := append([]string{schema.AttrMetadata}, searchableCopies...)
	replaced = append(replaced, schema.AttrUserPassword, schema.AttrRetainedSecret)
	if rep.TokenHash != "" {
		replaced = append(replaced, schema.AttrRegistrationTokenHash)
	}
	if rep.SecretHash == "" {
		replaced = append(replaced, schema.AttrSecretExpiresAt)
	}
	for _, name := range replaced {
		req.Replace(s.layout.attr(name), w[name])
	}
	req.Increment(schema.AttrRevision, "1")
	return req, sent, nil
}

// replaced is the record ReplaceIfTokenHash wrote: the server-side state
// from the Post-Read entry, with the credentials and metadata that were
// sent. A server that listed Post-Read but sent no entry costs one more
// read.
func (s *Store) replaced(ctx context.Context, id string, res *ldap.ModifyResult, rep store.Replacement, sent attrs) (client.Record, error) {
	e, err := postReadEntry(res.Controls)
	if err != nil || e == nil {
		s.logger.WarnContext(ctx, "ldap post-read entry missing or unreadable; reading the entry", "err", err)
		return s.Get(ctx, id)
	}
	a := s.layout.entryAttrs(e)
	maps.Copy(a, sent)
	r, err := decode(a)
	if err != nil {
		return client.Record{}, fmt.Errorf("ldapstore: entry %s is corrupt: %w", e.DN, err)
	}
	s.checkHashed(a)
	r.Metadata = rep.Metadata
	if stored, err := encode(r); err == nil {
		s.known.remember(r, stored)
	}
	return r, nil
}
