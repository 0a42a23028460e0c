package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/store"
	"github.com/dcrgate/dcrgate/store/memstore"
)

// faultyStore wraps a store with the faults of a bad day: a directory
// that stalls, and writes applied whose answer is lost.
type faultyStore struct {
	store.Store
	// stall makes every call wait for its context to end.
	stall bool
	// loseCreates applies Create but answers ErrUnavailable, as when the
	// connection broke after the directory applied the Add.
	loseCreates bool
	// created, when set, receives each created ID; Create then waits for
	// its context to end (at most holdFor).
	created chan string
	holdFor time.Duration
}

func (f *faultyStore) wait(ctx context.Context) error {
	if !f.stall {
		return nil
	}
	<-ctx.Done()
	return fmt.Errorf("%w: %w", store.ErrUnavailable, ctx.Err())
}

func (f *faultyStore) Create(ctx context.Context, r client.Record) error {
	if err := f.wait(ctx); err != nil {
		return err
	}
	if err := f.Store.Create(ctx, r); err != nil {
		return err
	}
	if f.created != nil {
		f.created <- r.ID
		select {
		case <-ctx.Done():
		case <-time.After(f.holdFor):
		}
	}
	if f.loseCreates {
		return fmt.Errorf("%w: the answer was lost", store.ErrUnavailable)
	}
	return nil
}

func (f *faultyStore) Get(ctx context.Context, id string) (client.Record, error) {
	if err := f.wait(ctx); err != nil {
		return client.Record{}, err
	}
	return f.Store.Get(ctx, id)
}

func (f *faultyStore) Update(ctx context.Context, id string, fn func(client.Record) (client.Record, error)) (client.Record, error) {
	if err := f.wait(ctx); err != nil {
		return client.Record{}, err
	}
	return f.Store.Update(ctx, id, fn)
}

// eventually polls cond until it holds or a generous bound passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRequestsEndOnTime: one deadline per request, whatever the store
// does. Against a store that never answers, every use case ends with 503
// soon after the request timeout, not after a timeout per stage.
func TestRequestsEndOnTime(t *testing.T) {
	const timeout = 300 * time.Millisecond
	faulty := &faultyStore{Store: memstore.New()}
	h := newHarness(t, func(s *setup) { s.store = faulty; s.opts.RequestTimeout = timeout })
	c := h.registerClient(webClient)
	faulty.stall = true
	for _, call := range []struct{ method, path, token, body string }{
		{http.MethodPost, endpoint, h.token("dcr"), webClient},
		{http.MethodGet, clientPath(c.id), c.token, ""},
		{http.MethodPut, clientPath(c.id), c.token, fmt.Sprintf(`{"client_id":%q,"redirect_uris":["https://app.example.com/cb"]}`, c.id)},
	} {
		start := time.Now()
		res := h.do(call.method, call.path, call.token, call.body)
		took := time.Since(start)
		wantError(t, res, http.StatusServiceUnavailable, "temporarily_unavailable", "")
		if res.Header().Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", call.method)
		}
		if took > timeout+time.Second {
			t.Errorf("%s took %s with a %s request timeout", call.method, took, timeout)
		}
	}
}

// TestLostRegistrationIsWithdrawn: a registration the store applied but
// whose answer was lost is answered 503 — and withdrawn once the store
// answers, so it never counts against the caller's quota.
func TestLostRegistrationIsWithdrawn(t *testing.T) {
	faulty := &faultyStore{Store: memstore.New(), loseCreates: true}
	h := newHarness(t, func(s *setup) { s.store = faulty; s.opts.MaxRegistrationsPerToken = 1 })
	tok := h.token("dcr")
	wantError(t, h.do(http.MethodPost, endpoint, tok, webClient), http.StatusServiceUnavailable, "temporarily_unavailable", "")
	eventually(t, "the lost registration withdrawn", func() bool { return h.stored(t) == 0 })
	faulty.loseCreates = false
	if res := h.do(http.MethodPost, endpoint, tok, webClient); res.Code != http.StatusCreated {
		t.Fatalf("the token's one registration, after the lost one: %d %s", res.Code, res.Body)
	}
}

// TestRegistrationWithdrawnWhenTheCallerLeaves: a caller that drops its
// connection before the 201 can be sent never holds the client's
// credentials; the registration is withdrawn rather than left to count
// against the caller.
func TestRegistrationWithdrawnWhenTheCallerLeaves(t *testing.T) {
	faulty := &faultyStore{Store: memstore.New(), created: make(chan string, 1), holdFor: 5 * time.Second}
	h := newHarness(t, func(s *setup) { s.store = faulty })
	srv := httptest.NewServer(h.handler)
	t.Cleanup(srv.Close)
	ctx, hangUp := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+endpoint, strings.NewReader(webClient))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+h.token("dcr"))
	done := make(chan error, 1)
	go func() {
		res, err := srv.Client().Do(req)
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	id := <-faulty.created
	hangUp()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("the caller got an answer after hanging up: %v", err)
	}
	eventually(t, "the undelivered registration withdrawn", func() bool {
		_, err := faulty.Get(t.Context(), id)
		return errors.Is(err, store.ErrNotFound)
	})
}
