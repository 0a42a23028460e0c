package api_test

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/ldapstore"
	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/store"
	"github.com/dcrgate/dcrgate/store/memstore"
)

// shared is one throwaway slapd for the whole package; each test gets an
// OU of its own.
var shared struct {
	once sync.Once
	dir  string
	srv  *slapdtest.Server
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		shared.srv.Stop()
	}
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// backends are the stores a behaviour must hold on: memory, and a real
// slapd loaded with the shipped schema.
var backends = map[string]func(t *testing.T) store.Store{
	"memory": func(*testing.T) store.Store { return memstore.New() },
	"slapd":  ldapBackend,
}

// ldapBackend is an ldapstore over a fresh OU of the shared slapd.
func ldapBackend(t *testing.T) store.Store {
	t.Helper()
	slapdtest.Require(t)
	shared.once.Do(func() {
		if shared.dir, shared.err = os.MkdirTemp("", "api-test-"); shared.err == nil {
			shared.srv, shared.err = slapdtest.Launch(context.Background(), shared.dir)
		}
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	ou, err := shared.srv.NewOU()
	if err != nil {
		t.Fatal(err)
	}
	s, err := ldapstore.New(t.Context(), ldapstore.Config{URLs: []string{shared.srv.URL}, BindDN: shared.srv.BindDN,
		BindPassword: shared.srv.BindPassword, BaseDN: ou, Timeout: 3 * time.Second}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// onEveryBackend runs test once per backend.
func onEveryBackend(t *testing.T, test func(t *testing.T, newStore func(t *testing.T) store.Store)) {
	for name, newStore := range backends {
		t.Run(name, func(t *testing.T) { test(t, newStore) })
	}
}
