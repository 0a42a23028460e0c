package ratelimit

import (
	"testing"
	"time"
)

// clock is a fake time that tests move by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestLimiter(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}
	l := New(Limit{PerMinute: 6, Burst: 3}, c.now) // a token every 10 s
	for i := range 3 {
		if ok, _ := l.Allow("198.51.100.7"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.Allow("198.51.100.7")
	if ok || wait != 10*time.Second {
		t.Fatalf("after the burst: allowed %v, retry after %s; want refused, 10s", ok, wait)
	}
	if ok, _ := l.Allow("203.0.113.9"); !ok {
		t.Fatal("another caller refused: buckets are per key")
	}
	c.t = c.t.Add(4 * time.Second)
	if ok, wait := l.Allow("198.51.100.7"); ok || wait != 6*time.Second {
		t.Fatalf("a refused request took a token: allowed %v, retry after %s; want 6s", ok, wait)
	}
	c.t = c.t.Add(6 * time.Second)
	if ok, _ := l.Allow("198.51.100.7"); !ok {
		t.Fatal("refused once a token was due")
	}
}

func TestNoLimit(t *testing.T) {
	var l *Limiter = New(Limit{}, time.Now)
	for range 1000 {
		if ok, _ := l.Allow("x"); !ok {
			t.Fatal("a limiter without a rate refused")
		}
	}
}
