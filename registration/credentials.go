package registration

import (
	"time"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/credentials"
)

// maxRetainedSecrets bounds the secrets kept besides the current one, so a
// client that rotates on every GET cannot pile up userPassword values.
const maxRetainedSecrets = 2

// issued holds the clear-text credentials one call handed out; they exist
// only in that call's response.
type issued struct {
	secret string
	token  string
}

// newSecret makes a fresh client secret current. The replaced one stays
// accepted for the retention period when "Retain Client Secret" is on, and
// in any case for the rotation grace period, so that a client whose answer
// is lost keeps working with the secret it has; unless keepReplaced is
// false: a caller that came with its previous token never received the
// replaced secret, which came in the answer it lost.
func (s *Service) newSecret(r *client.Record, now time.Time, keepReplaced bool) (string, error) {
	secret := credentials.NewSecret()
	hash, err := s.hasher.Hash(secret)
	if err != nil {
		return "", err
	}
	var kept []client.SecretHash
	if old, keepFor := r.CurrentSecret(), s.secretKeepPeriod(); old != "" && keepReplaced && keepFor > 0 {
		kept = append(kept, client.SecretHash{Hash: old, ExpiresAt: now.Add(keepFor).Truncate(time.Second)})
	}
	if len(r.Secrets) > 1 {
		kept = append(kept, r.Secrets[1:]...)
	}
	r.Secrets = append([]client.SecretHash{{Hash: hash}}, kept[:min(len(kept), maxRetainedSecrets)]...)
	r.SecretExpiresAt = time.Time{}
	if life := s.opts.ClientSecretLifetime; life > 0 {
		r.SecretExpiresAt = now.Add(life).Truncate(time.Second)
	}
	return secret, nil
}

// secretKeepPeriod is how long a replaced secret stays accepted.
func (s *Service) secretKeepPeriod() time.Duration {
	m := s.opts.Management
	if m.RetainClientSecret {
		return max(m.ClientSecretRetentionPeriod, m.RotationGracePeriod)
	}
	return m.RotationGracePeriod
}

// newToken replaces the registration access token (RFC 7592 §3: the client
// must use the new one). The token the caller came with becomes the
// previous one for the grace period, in case this answer never reaches it;
// a caller that came with the previous token never received the one now
// replaced, so its own token stays the previous one, its grace not
// extended.
func (s *Service) newToken(r *client.Record, now time.Time, match client.TokenMatch) string {
	token := credentials.NewRegistrationToken()
	grace := s.opts.Management.RotationGracePeriod
	if match == client.CurrentTokenMatch && grace > 0 && r.RegistrationTokenHash != "" {
		r.PreviousToken = client.PreviousToken{Hash: r.RegistrationTokenHash, ExpiresAt: now.Add(grace).Truncate(time.Second)}
	}
	r.RegistrationTokenHash = credentials.HashToken(token)
	return token
}

// settle drops, before a write, what no longer needs keeping: a secret
// past its lifetime (with the ones retained before it), retained secrets
// whose time is up, a previous token past its grace, and — once a caller
// proves with the current token that it received the last answer — the
// previous token and the secrets kept in case that answer was lost
// (unless "Retain Client Secret" keeps them anyway). Expiry is enforced on
// every write of the entry and by the reaper; between those, an AS that
// binds must honour dcrgate's recorded expiry (see docs).
func (s *Service) settle(r *client.Record, now time.Time, match client.TokenMatch) {
	if secretExpired(*r, now) {
		r.Secrets, r.SecretExpiresAt = nil, time.Time{}
	}
	if len(r.Secrets) > 1 {
		kept := []client.SecretHash{r.Secrets[0]}
		for _, sh := range r.Secrets[1:] {
			if sh.ExpiresAt.After(now) {
				kept = append(kept, sh)
			}
		}
		r.Secrets = kept
	}
	received := match == client.CurrentTokenMatch && r.PreviousToken.Hash != ""
	if received && !s.opts.Management.RetainClientSecret && len(r.Secrets) > 1 {
		r.Secrets = r.Secrets[:1]
	}
	if received || !r.PreviousToken.ValidAt(now) {
		r.PreviousToken = client.PreviousToken{}
	}
}

// refreshCredentials applies the management rotation options to a record
// being read or updated by a caller whose token matched as match: public
// clients hold no secret; a client that became confidential gets one;
// otherwise the secret and the token are rotated as configured.
func (s *Service) refreshCredentials(r *client.Record, now time.Time, match client.TokenMatch) (issued, error) {
	var out issued
	s.settle(r, now, match)
	m := s.opts.Management
	switch {
	case !r.Metadata.IsConfidential():
		r.Secrets, r.SecretExpiresAt = nil, time.Time{}
	case r.CurrentSecret() == "" || m.RotateClientSecret:
		secret, err := s.newSecret(r, now, match != client.PreviousTokenMatch)
		if err != nil {
			return issued{}, err
		}
		out.secret = secret
	}
	if m.RotateRegistrationAccessToken {
		out.token = s.newToken(r, now, match)
	}
	return out, nil
}

// rotatesOnRead reports whether a GET writes the entry.
func (s *Service) rotatesOnRead() bool {
	m := s.opts.Management
	return m.RotateClientSecret || m.RotateRegistrationAccessToken
}
