package iat

import (
	"container/list"
	"crypto/sha256"
	"sync"
	"time"
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

// verdictCache is a size-bounded LRU of token verdicts (introspection
// answers, verified JWTs) with a per-entry expiry. An expired entry is
// dropped when it is looked up; the size bound evicts the least recently
// used entry, so a flood of distinct tokens costs a fixed amount of memory.
// Principals go in and come out as clones (Principal.clone): no caller
// holds the cached maps and slices.
type verdictCache struct {
	mu    sync.Mutex
	size  int
	order *list.List // front: most recently used; values are *cacheEntry
	byKey map[cacheKey]*list.Element
}

type cacheEntry struct {
	key cacheKey
	v   verdict
}

func newVerdictCache(size int) *verdictCache {
	if size <= 0 {
		size = DefaultCacheSize
	}
	return &verdictCache{size: size, order: list.New(), byKey: make(map[cacheKey]*list.Element)}
}

// get returns the verdict for k if it has not expired at now.
func (c *verdictCache) get(k cacheKey, now time.Time) (verdict, bool) {
	v, ok := c.lookup(k, now)
	if ok {
		v.principal = v.principal.clone() // outside the lock: it allocates
	}
	return v, ok
}

func (c *verdictCache) lookup(k cacheKey, now time.Time) (verdict, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[k]
	if !ok {
		return verdict{}, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.v.expires) {
		c.order.Remove(el)
		delete(c.byKey, k)
		return verdict{}, false
	}
	c.order.MoveToFront(el)
	return e.v, true
}

// put stores v under k, evicting the least recently used entry when full.
func (c *verdictCache) put(k cacheKey, v verdict) {
	v.principal = v.principal.clone() // before the lock: it allocates
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[k]; ok {
		el.Value.(*cacheEntry).v = v
		c.order.MoveToFront(el)
		return
	}
	c.byKey[k] = c.order.PushFront(&cacheEntry{key: k, v: v})
	if c.order.Len() > c.size {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.byKey, oldest.Value.(*cacheEntry).key)
	}
}

// len is the number of entries, expired ones included.
func (c *verdictCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
