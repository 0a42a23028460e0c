package registration

import (
	"context"
	"time"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/store"
)

// issued holds the clear-text credentials one call handed out; they exist
// only in that call's response.
type issued struct {
	secret string
	token  string
}

// newSecret makes a fresh client secret current. The previous one is kept
// for the retention period when "Retain Client Secret" is on, so clients
// that have not yet picked up the new secret keep working; otherwise it
// stops working at once.
func (s *Service) newSecret(r *client.Record, now time.Time) (string, error) {
	secret := credentials.NewSecret()
	hash, err := s.hasher.Hash(secret)
	if err != nil {
		return "", err
	}
	var keep []client.SecretHash
	if old := r.CurrentSecret(); old != "" && s.opts.Management.RetainClientSecret {
		keep = append(keep, client.SecretHash{Hash: old, ExpiresAt: now.Add(s.opts.Management.ClientSecretRetentionPeriod).Truncate(time.Second)})
	}
	if len(r.Secrets) > 1 {
		keep = append(keep, r.Secrets[1:]...)
	}
	r.Secrets = append([]client.SecretHash{{Hash: hash}}, keep...)
	return secret, nil
}

// newToken replaces the registration access token; the old one stops working
// with this write (RFC 7592 §3: the client must use the new one).
func newToken(r *client.Record) string {
	token := credentials.NewRegistrationToken()
	r.RegistrationTokenHash = credentials.HashToken(token)
	return token
}

// pruneRetained drops retained secrets whose retention period has ended.
// Expiry is enforced on every write of the entry; between writes an AS that
// binds must also honour dcrgate's recorded expiry (see docs).
func pruneRetained(r *client.Record, now time.Time) {
	if len(r.Secrets) < 2 {
		return
	}
	kept := r.Secrets[:1]
	for _, sh := range r.Secrets[1:] {
		if sh.ExpiresAt.After(now) {
			kept = append(kept, sh)
		}
	}
	r.Secrets = kept
}

// refreshCredentials applies the management rotation options to a record
// being read or updated: public clients hold no secret; a client that
// became confidential gets one; otherwise the secret and the token are
// rotated as configured.
func (s *Service) refreshCredentials(r *client.Record, now time.Time) (issued, error) {
	var out issued
	pruneRetained(r, now)
	m := s.opts.Management
	switch {
	case !r.Metadata.IsConfidential():
		r.Secrets, r.SecretExpiresAt = nil, time.Time{}
	case r.CurrentSecret() == "" || m.RotateClientSecret:
		secret, err := s.newSecret(r, now)
		if err != nil {
			return issued{}, err
		}
		out.secret = secret
	}
	if m.RotateRegistrationAccessToken {
		out.token = newToken(r)
	}
	return out, nil
}

// rotatesOnRead reports whether a GET writes the entry.
func (s *Service) rotatesOnRead() bool {
	m := s.opts.Management
	return m.RotateClientSecret || m.RotateRegistrationAccessToken
}

// blindUpdate reports whether an update of a client to md needs nothing
// from the stored record: no presented secret to check against it, no old
// secret to retain, and a secret outcome that does not depend on whether
// the client had one (rotation on, or a public client, which has none).
// Secrets retained from before retention was switched off end with such an
// update.
func (s *Service) blindUpdate(md client.Metadata, presentedSecret string) bool {
	m := s.opts.Management
	return presentedSecret == "" && !m.RetainClientSecret && (m.RotateClientSecret || !md.IsConfidential())
}

// replace applies an update for which blindUpdate holds: the credentials
// are issued on a blank record, exactly as refreshCredentials would on the
// stored one, and the store writes them guarded by the presented token's
// hash; a wrong token is store.ErrNotFound, the same 401 as an unknown
// client.
func (s *Service) replace(ctx context.Context, tr store.TokenReplacer, clientID, bearer string, md client.Metadata) (client.Record, issued, error) {
	fresh := client.Record{Metadata: md}
	out, err := s.refreshCredentials(&fresh, s.now())
	if err != nil {
		return client.Record{}, issued{}, err
	}
	r, err := tr.ReplaceIfTokenHash(ctx, clientID, credentials.HashToken(bearer), store.Replacement{
		Metadata: md, SecretHash: fresh.CurrentSecret(), TokenHash: fresh.RegistrationTokenHash})
	return r, out, err
}
