package registration

import (
	"context"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/oauth"
	"github.com/dcrgate/dcrgate/store"
)

// checkTokenQuota refuses a registration when the initial access token has
// already registered MaxRegistrationsPerToken clients. The count comes
// from the directory (clients carry their owner's token ID), so it holds
// across replicas and restarts; it stops at the cap, so a token that
// registered 100,000 clients costs no more to refuse than one at its cap.
func (s *Service) checkTokenQuota(ctx context.Context, owner client.Owner) error {
	n := s.opts.MaxRegistrationsPerToken
	if n <= 0 || owner.TokenID == "" {
		return nil
	}
	count, err := s.store.Count(ctx, store.Query{OwnerTokenID: owner.TokenID}, n)
	if err != nil {
		return storeError(err)
	}
	if count >= n {
		return quotaError(n)
	}
	return nil
}

// enforceTokenQuota closes the race checkTokenQuota leaves open: two
// registrations with the same token, on one replica or two, may both
// count n-1 and both create. After its create each counts again and, if
// the token now has more than n clients, withdraws its own and answers
// 403. On a directory that reads its own writes, of two racing creates at
// least the later counter sees both, so the cap is never exceeded once
// both have answered; both may back out, which errs on the safe side. With
// multi-master replication the window is the replication delay. If the
// recount fails the new client is also withdrawn: the caller gets an error
// and must not be left with a client it holds no credentials for.
func (s *Service) enforceTokenQuota(ctx context.Context, rec client.Record) error {
	n := s.opts.MaxRegistrationsPerToken
	if n <= 0 || rec.Owner.TokenID == "" {
		return nil
	}
	count, err := s.store.Count(ctx, store.Query{OwnerTokenID: rec.Owner.TokenID}, n+1)
	if err == nil && count <= n {
		return nil
	}
	s.orphans.remove(ctx, rec)
	if err != nil {
		return storeError(err)
	}
	return quotaError(n)
}

// quotaError is 403 access_denied: the token is valid and has the scope,
// so neither invalid_token (401, "get a new token" would not help) nor
// insufficient_scope fits; the registration is refused by policy.
func quotaError(n int) error {
	return oauth.ErrAccessDenied.WithDescription("this initial access token has already registered %d client(s), the most it may", n)
}
