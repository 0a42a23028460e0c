package iat

import (
	"crypto/sha256"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// DefaultCacheSize bounds an introspection cache when none is configured.
const DefaultCacheSize = 10000

// cacheKey is the SHA-256 of a token: the cache never holds a token.
type cacheKey [sha256.Size]byte

// verdict is one cached introspection answer: the principal of an active
// token, or why the token is refused.
type verdict struct {
	principal Principal
	err       error
	expires   time.Time
}

// verdictCache is a size-bounded LRU (golang-lru) of token verdicts
// (introspection answers, verified JWTs), each with its own expiry, which
// golang-lru's expirable cache, with one TTL for all, cannot hold. An
// expired entry is dropped when it is looked up, so a dead token presented
// again and again does not stay the most recently used; the size bound
// evicts the least recently used, so a flood of distinct tokens costs a
// fixed amount of memory. Principals go in and come out as clones
// (Principal.clone): no caller holds the cached maps and slices.
type verdictCache struct {
	entries *lru.Cache[cacheKey, verdict]
}

func newVerdictCache(size int) *verdictCache {
	if size <= 0 {
		size = DefaultCacheSize
	}
	c, err := lru.New[cacheKey, verdict](size)
	if err != nil {
		panic(err) // only for a size < 1
	}
	return &verdictCache{entries: c}
}

// get returns the verdict for k if it has not expired at now.
func (c *verdictCache) get(k cacheKey, now time.Time) (verdict, bool) {
	v, ok := c.entries.Get(k)
	if !ok {
		return verdict{}, false
	}
	if !now.Before(v.expires) {
		// A verdict put meanwhile may go too; it costs one more check.
		c.entries.Remove(k)
		return verdict{}, false
	}
	v.principal = v.principal.clone()
	return v, true
}

// put stores v under k, evicting the least recently used entry when full.
func (c *verdictCache) put(k cacheKey, v verdict) {
	v.principal = v.principal.clone()
	c.entries.Add(k, v)
}
