package registration

import (
	"strings"
	"time"

	"github.com/dcrgate/dcrgate/client"
)

// awaitingApproval begins the DisabledReason of a client an approval
// policy holds.
const awaitingApproval = "awaiting approval"

// AwaitingApproval reports whether r is a client an approval policy holds
// until an administrator enables it.
func AwaitingApproval(r client.Record) bool {
	return r.Disabled && strings.HasPrefix(r.DisabledReason, awaitingApproval)
}

// usageGranularity is how finely LastUsedAt is kept: a client read a
// thousand times a day costs one write a day for it, not a thousand.
const usageGranularity = 24 * time.Hour

// touch records a use of r at now: LastUsedAt once its recorded use is a
// day old, and, with a client lifetime, a renewed expiry once a tenth of
// the lifetime (at most a day) has passed since it was last renewed. It
// reports whether r changed.
func (s *Service) touch(r *client.Record, now time.Time) bool {
	changed := false
	if now.Sub(r.LastUsedAt) >= usageGranularity {
		r.LastUsedAt, changed = now.Truncate(time.Second), true
	}
	if life := s.lifetime(*r); life > 0 {
		renewed := now.Add(life).Truncate(time.Second)
		if r.ExpiresAt.IsZero() || renewed.Sub(r.ExpiresAt) >= min(life/10, usageGranularity) {
			r.ExpiresAt, changed = renewed, true
		}
	}
	return changed
}

// lifetime is r's client lifetime: the anonymous profile's for a client it
// admitted, when set, else the registration's.
func (s *Service) lifetime(r client.Record) time.Duration {
	if r.Owner.Anonymous && s.opts.Anonymous.ClientLifetime > 0 {
		return s.opts.Anonymous.ClientLifetime
	}
	return s.opts.ClientLifetime
}

// secretExpired reports whether r's current secret is past its lifetime.
func secretExpired(r client.Record, now time.Time) bool {
	return r.CurrentSecret() != "" && !r.SecretExpiresAt.IsZero() && !now.Before(r.SecretExpiresAt)
}

// needsWrite reports whether a read that rotates nothing must still write
// r: to record its use or renew its lifetime, or to give a confidential
// client a secret in place of one past its lifetime (or one the reaper
// removed for that reason).
func (s *Service) needsWrite(r client.Record, now time.Time) bool {
	return s.touch(&r, now) || secretExpired(r, now) || r.Metadata.IsConfidential() && r.CurrentSecret() == ""
}
