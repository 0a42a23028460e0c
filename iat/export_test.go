package iat

import "time"

// MaxFailureBackoff is the longest a refetch waits after a failed one.
const MaxFailureBackoff = maxFailureBackoff

// SetRefetchClock makes the rate limit of v's on-demand JWKS refetches read
// the time from now, so tests can step over the interval without sleeping.
func SetRefetchClock(v *JWKSValidator, now func() time.Time) {
	v.keys.(*remoteKeys).refresh.setClock(now)
}

// SetDiscoveryClock does the same for the discovery retries of d.
func SetDiscoveryClock(d *DiscoveryValidator, now func() time.Time) {
	d.refresh.setClock(now)
}

// SetStatementClock does the same for the keys of one statement issuer.
func SetStatementClock(sv *StatementVerifier, issuer string, now func() time.Time) {
	SetRefetchClock(sv.byIssuer[issuer].v, now)
}
