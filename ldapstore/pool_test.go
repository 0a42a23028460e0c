package ldapstore

import (
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/store"
)

// deadURL is a loopback URL nobody listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "ldap://" + l.Addr().String()
	_ = l.Close()
	return url
}

func TestUnreachableIsUnavailable(t *testing.T) {
	start := time.Now()
	_, err := New(t.Context(), Config{URLs: []string{deadURL(t)}, BaseDN: "ou=clients,dc=example,dc=org",
		Timeout: time.Second}, nil)
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("New: err = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %s to give up", d)
	}
}

func TestWrongBindPasswordFailsAtStart(t *testing.T) {
	srv := server(t)
	cfg := configFor(srv, srv.BaseDN)
	cfg.BindPassword = "wrong"
	_, err := New(t.Context(), cfg, nil)
	if err == nil || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("New with a wrong password: err = %v", err)
	}
	if strings.Contains(err.Error(), srv.BindPassword) || strings.Contains(err.Error(), "wrong") {
		t.Fatal("error reveals the bind password")
	}
}

func TestFailoverToNextURL(t *testing.T) {
	srv := server(t)
	cfg := configFor(srv, srv.BaseDN)
	cfg.URLs = []string{deadURL(t), srv.URL}
	s, err := New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("New with a dead first URL: %v", err)
	}
	defer s.Close()
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestPoolExhausted: when every connection is busy, callers wait at most
// Timeout and then get ErrUnavailable instead of queueing forever.
func TestPoolExhausted(t *testing.T) {
	srv := server(t)
	cfg := configFor(srv, srv.BaseDN)
	cfg.PoolSize, cfg.Timeout = 1, 200*time.Millisecond
	s, err := New(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conn, _, err := s.pool.acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Ping with the pool exhausted: err = %v", err)
	}
	s.pool.release(conn, nil)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping after release: %v", err)
	}
}

func TestClosedStore(t *testing.T) {
	srv := server(t)
	s, err := New(t.Context(), configFor(srv, srv.BaseDN), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if err := s.Ping(t.Context()); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Ping after Close: err = %v", err)
	}
}
