package registration

import (
	"context"
	"time"

	"github.com/dcrgate/dcrgate/audit"
	"github.com/dcrgate/dcrgate/oauth"
	"github.com/dcrgate/dcrgate/ratelimit"
)

// RateLimits bound how often one caller may call: by its address (through
// the trusted proxies), separately for registration with a token, for
// registration without one (the anonymous profile), and for management;
// and by the token's owner (issuer and subject) for registration. A zero
// Limit is no limit. They are kept per process (see package ratelimit).
type RateLimits struct {
	RegistrationPerIP    ratelimit.Limit
	AnonymousPerIP       ratelimit.Limit
	RegistrationPerOwner ratelimit.Limit
	ManagementPerIP      ratelimit.Limit
}

// limiters are the buckets of RateLimits.
type limiters struct {
	registrationIP, anonymousIP, owner, managementIP *ratelimit.Limiter
}

func newLimiters(l RateLimits, now func() time.Time) limiters {
	return limiters{
		registrationIP: ratelimit.New(l.RegistrationPerIP, now),
		anonymousIP:    ratelimit.New(l.AnonymousPerIP, now),
		owner:          ratelimit.New(l.RegistrationPerOwner, now),
		managementIP:   ratelimit.New(l.ManagementPerIP, now),
	}
}

// limit takes a token from key's bucket in l, or refuses with 429 and
// Retry-After (RFC 6585 §4), naming the limit like a policy so that the
// audit trail and dcrgate_policy_refusals_total say which one refused. A
// caller whose address is unknown is not limited by address.
func limit(l *ratelimit.Limiter, name, key string) error {
	if key == "" {
		return nil
	}
	if ok, wait := l.Allow(key); !ok {
		return oauth.ErrTooManyRequests.WithDescription("too many requests from this caller; retry in %s", wait.Round(time.Second)).
			WithRetryAfter(wait).WithPolicy("rate_limit." + name)
	}
	return nil
}

// limitAddress applies l to the caller's address in ctx.
func limitAddress(ctx context.Context, l *ratelimit.Limiter, name string) error {
	return limit(l, name, audit.CallerIP(ctx))
}
