package iat

import (
	"testing"
	"time"
)

// TestVerdictCache: a verdict is answered until it expires, an expired one
// is dropped when looked up, and a full cache evicts the least recently
// used.
func TestVerdictCache(t *testing.T) {
	now := time.Now()
	c := newVerdictCache(2)
	key := func(b byte) cacheKey { return cacheKey{b} }
	c.put(key(1), verdict{principal: Principal{Subject: "live"}, expires: now.Add(time.Minute)})
	c.put(key(2), verdict{principal: Principal{Subject: "dead"}, expires: now.Add(-time.Second)})
	if v, ok := c.get(key(1), now); !ok || v.principal.Subject != "live" {
		t.Fatalf("live verdict: %+v, %v", v, ok)
	}
	if _, ok := c.get(key(2), now); ok {
		t.Fatal("an expired verdict was answered")
	}
	if c.entries.Contains(key(2)) {
		t.Fatal("an expired verdict stayed after its lookup")
	}
	c.put(key(2), verdict{expires: now.Add(time.Minute)})
	c.get(key(1), now) // 1 is now more recently used than 2
	c.put(key(3), verdict{expires: now.Add(time.Minute)})
	if _, ok := c.get(key(2), now); ok {
		t.Fatal("the least recently used verdict was not evicted")
	}
	if _, ok := c.get(key(1), now); !ok {
		t.Fatal("a recently used verdict was evicted")
	}
}
