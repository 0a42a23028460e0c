package registration

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/oauth"
	"github.com/dcrgate/dcrgate/policies"
	"github.com/dcrgate/dcrgate/store"
)

// Read answers an RFC 7592 §2.1 read request. With rotation configured it is
// a write: the response carries the new secret and token, and the old ones
// stop working at once.
func (s *Service) Read(ctx context.Context, clientID, bearer string) (Registration, error) {
	if err := s.requireManagement(clientID, bearer); err != nil {
		return Registration{}, err
	}
	if !s.rotatesOnRead() {
		r, err := s.store.Get(ctx, clientID)
		if err == nil {
			err = checkRegistrationToken(r, bearer)
		}
		if err != nil {
			return Registration{}, managementError(err)
		}
		return s.present(r, issued{}), nil
	}
	var out issued
	r, err := s.store.Update(ctx, clientID, func(r client.Record) (client.Record, error) {
		if err := checkRegistrationToken(r, bearer); err != nil {
			return r, err
		}
		var err error
		out, err = s.refreshCredentials(&r, s.now())
		return r, err
	})
	if err != nil {
		return Registration{}, managementError(err)
	}
	return s.present(r, out), nil
}

// Update answers an RFC 7592 §2.2 update request: a full replacement of the
// metadata, so omitted fields return to their defaults.
func (s *Service) Update(ctx context.Context, clientID, bearer string, body []byte) (Registration, error) {
	if err := s.requireManagement(clientID, bearer); err != nil {
		return Registration{}, err
	}
	md, req, err := s.validMetadata(ctx, body, policies.Request{Operation: string(OpUpdate), ClientID: clientID})
	if err != nil {
		return Registration{}, err
	}
	if err := checkUpdateRequest(clientID, req); err != nil {
		return Registration{}, err
	}
	r, out, err := s.update(ctx, clientID, bearer, md, req.ClientSecret)
	if err != nil {
		return Registration{}, managementError(err)
	}
	return s.present(r, out), nil
}

// update writes the new metadata and the credentials the options call for:
// in one token-guarded write when nothing in it depends on the stored
// record and the store offers that (store.TokenReplacer), else as a
// read-modify-write that checks the token on the revision it writes.
func (s *Service) update(ctx context.Context, clientID, bearer string, md client.Metadata, secret string) (client.Record, issued, error) {
	if tr, ok := s.store.(store.TokenReplacer); ok && s.blindUpdate(md, secret) {
		return s.replace(ctx, tr, clientID, bearer, md)
	}
	var out issued
	r, err := s.store.Update(ctx, clientID, func(r client.Record) (client.Record, error) {
		if err := checkRegistrationToken(r, bearer); err != nil {
			return r, err
		}
		if err := s.checkPresentedSecret(ctx, r, secret); err != nil {
			return r, err
		}
		r.Metadata = md
		var err error
		out, err = s.refreshCredentials(&r, s.now())
		return r, err
	})
	return r, out, err
}

// Delete answers an RFC 7592 §2.3 delete request. When "Allow Client Delete"
// is off the method is refused with 405, as §2.3 suggests.
func (s *Service) Delete(ctx context.Context, clientID, bearer string) error {
	if err := s.requireManagement(clientID, bearer); err != nil {
		return err
	}
	if !s.opts.Management.AllowClientDelete {
		return oauth.ErrMethodNotAllowed.WithDescription("clients may not delete their registration here").
			WithAllow(strings.Join([]string{http.MethodGet, http.MethodPut}, ", "))
	}
	err := s.deleteWithToken(ctx, clientID, bearer)
	if err == nil {
		s.logger.InfoContext(ctx, "client deleted", "client_id", clientID)
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
func (s *Service) checkPresentedSecret(ctx context.Context, r client.Record, secret string) error {
	if secret == "" {
		return nil
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

// deleteWithToken deletes the client if bearer is its registration access
// token, in one guarded operation where the store offers it.
func (s *Service) deleteWithToken(ctx context.Context, clientID, bearer string) error {
	if td, ok := s.store.(store.TokenDeleter); ok {
		return td.DeleteIfTokenHash(ctx, clientID, credentials.HashToken(bearer))
	}
	return s.store.Delete(ctx, clientID, func(r client.Record) error {
		return checkRegistrationToken(r, bearer)
	})
}
