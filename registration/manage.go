package registration

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/oauth"
	"github.com/dcrgate/dcrgate/policies"
	"github.com/dcrgate/dcrgate/store"
)

// Read answers an RFC 7592 §2.1 read request. With rotation configured it is
// a write: the response carries the new secret and token, and the old ones
// stop working once the grace period ends or the new token is first used.
func (s *Service) Read(ctx context.Context, clientID, bearer string) (_ Registration, err error) {
	ev := managed(OpRead, clientID)
	defer func() { s.record(ctx, ev, err) }()
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	if err := s.requireManagement(ctx, clientID, bearer); err != nil {
		return Registration{}, err
	}
	tokenHash := credentials.HashToken(bearer)
	if !s.rotatesOnRead() {
		r, err := s.store.Get(ctx, clientID)
		if err == nil {
			_, err = authenticate(r, tokenHash, s.now())
		}
		if err != nil {
			return Registration{}, managementError(err)
		}
		owned(&ev, r)
		if !s.needsWrite(r, s.now()) {
			return s.present(r, issued{}), nil
		}
	}
	var out issued
	r, err := s.store.Update(ctx, clientID, func(r client.Record) (client.Record, error) {
		now := s.now()
		match, err := authenticate(r, tokenHash, now)
		if err != nil {
			return r, err
		}
		owned(&ev, r)
		s.touch(&r, now)
		out, err = s.refreshCredentials(&r, now, match)
		return r, err
	})
	if err != nil {
		return Registration{}, managementError(err)
	}
	ev.Issued = out.names()
	return s.present(r, out), nil
}

// Update answers an RFC 7592 §2.2 update request: a full replacement of the
// metadata, so omitted fields return to their defaults. The registration
// access token is checked first, on the stored record; only then is the
// body judged — by the policies as the client's owner, within its software
// statement — so a caller with a wrong token learns nothing, and an update
// can never obtain what the registration would have been refused.
func (s *Service) Update(ctx context.Context, clientID, bearer string, body []byte) (_ Registration, err error) {
	ev := managed(OpUpdate, clientID)
	defer func() { s.record(ctx, ev, err) }()
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	if err := s.requireManagement(ctx, clientID, bearer); err != nil {
		return Registration{}, err
	}
	tokenHash := credentials.HashToken(bearer)
	var out issued
	r, err := s.store.Update(ctx, clientID, func(r client.Record) (client.Record, error) {
		now := s.now()
		match, err := authenticate(r, tokenHash, now)
		if err != nil {
			return r, err
		}
		owned(&ev, r)
		before := r.Metadata
		if err := s.replaceMetadata(ctx, &r, body, now); err != nil {
			return r, err
		}
		ev.Changed = client.ChangedMembers(before, r.Metadata)
		s.touch(&r, now)
		out, err = s.refreshCredentials(&r, now, match)
		return r, err
	})
	if err != nil {
		return Registration{}, managementError(err)
	}
	ev.Issued = out.names()
	return s.present(r, out), nil
}

// replaceMetadata judges an update body for the client r and, if it
// passes, makes it r's metadata and software statement: the statement it
// sends, else the one r keeps, fixes what it claims; the policies judge it
// as r's owner; RFC 7592 §2.2's rules on the body apply; and a client_secret
// it carries must be the current one.
func (s *Service) replaceMetadata(ctx context.Context, r *client.Record, body []byte, now time.Time) error {
	caller := policies.Request{Principal: principalOf(r.Owner), Anonymous: r.Owner.Anonymous}
	c, err := s.compose(ctx, body, r.Statement, caller)
	if err != nil {
		return err
	}
	md, req, err := s.validMetadata(ctx, c.body, s.policyRequest(OpUpdate, r.ID, caller, c.statement))
	if err != nil {
		return err
	}
	if err := checkUpdateRequest(r.ID, req); err != nil {
		return err
	}
	if err := checkGrantedScopes(md, c.statement); err != nil {
		return err
	}
	if err := s.checkPresentedSecret(ctx, *r, req.ClientSecret, now); err != nil {
		return err
	}
	r.Metadata, r.Statement, r.Defaulted = md, c.statement, c.defaulted
	return nil
}

// Delete answers an RFC 7592 §2.3 delete request. When "Allow Client Delete"
// is off the method is refused with 405, as §2.3 suggests.
func (s *Service) Delete(ctx context.Context, clientID, bearer string) (err error) {
	ev := managed(OpDelete, clientID)
	defer func() { s.record(ctx, ev, err) }()
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	if err := s.requireManagement(ctx, clientID, bearer); err != nil {
		return err
	}
	if !s.opts.Management.AllowClientDelete {
		return oauth.ErrMethodNotAllowed.WithDescription("clients may not delete their registration here").
			WithAllow(strings.Join([]string{http.MethodGet, http.MethodPut}, ", "))
	}
	owner, err := s.deleteWithToken(ctx, clientID, credentials.HashToken(bearer))
	if err == nil {
		owned(&ev, client.Record{Owner: owner})
	}
	return managementError(err)
}

// checkUpdateRequest applies RFC 7592 §2.2: the body must name the client it
// updates and must not carry the fields only the server sets.
func checkUpdateRequest(clientID string, req client.Request) error {
	if req.ClientID != clientID {
		return oauth.ErrInvalidClientMetadata.WithDescription("client_id must be present and equal to the client's identifier")
	}
	if len(req.ServerManaged) > 0 {
		return oauth.ErrInvalidClientMetadata.WithDescription("%s must not be sent in an update request", strings.Join(req.ServerManaged, ", "))
	}
	return nil
}

// checkPresentedSecret applies RFC 7592 §2.2: a client_secret in the body
// must be the current one. Only the hash is stored, so it is verified, not
// compared. A hash the directory made itself (cleartext-for-server-hashing)
// can only be verified by the directory: a store offering VerifySecret
// (ldapstore: a bind as the client) is asked instead, which also accepts a
// still-retained secret, as a bind at the AS would.
func (s *Service) checkPresentedSecret(ctx context.Context, r client.Record, secret string, now time.Time) error {
	if secret == "" {
		return nil
	}
	if secretExpired(r, now) {
		return oauth.ErrInvalidClientMetadata.WithDescription("client_secret has expired")
	}
	ok, err := s.hasher.Verify(secret, r.CurrentSecret())
	if v, canBind := s.store.(interface {
		VerifySecret(ctx context.Context, id, secret string) (bool, error)
	}); errors.Is(err, credentials.ErrVerifyByBind) && canBind {
		ok, err = v.VerifySecret(ctx, r.ID, secret)
		if errors.Is(err, store.ErrUnavailable) {
			return err
		}
	}
	if err != nil || !ok {
		return oauth.ErrInvalidClientMetadata.WithDescription("client_secret does not match the client's current secret")
	}
	return nil
}

// deleteWithToken deletes the client if tokenHash may manage it, in one
// guarded operation where the store offers it, and returns its owner when
// known.
func (s *Service) deleteWithToken(ctx context.Context, clientID, tokenHash string) (owner client.Owner, err error) {
	now := s.now()
	if td, ok := s.store.(store.TokenDeleter); ok {
		return td.DeleteIfManageable(ctx, clientID, tokenHash, now)
	}
	return owner, s.store.Delete(ctx, clientID, func(r client.Record) error {
		owner = r.Owner
		_, err := authenticate(r, tokenHash, now)
		return err
	})
}
