package ldapstore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/store"
	"github.com/dcrgate/dcrgate/store/storetest"
)

// cutProxy relays LDAP between a store and slapd. With cuts > 0 it
// swallows the next write response and drops the connection, cuts times:
// the write is applied, its answer lost, as when a connection breaks while
// a request is in flight. With refuseAfterCut it then refuses every new
// connection, as a directory that went away. With holds > 0 it holds the
// next write response for holdFor before passing it on, holds times: the
// write is applied, its answer late.
type cutProxy struct {
	ln             net.Listener
	target         string
	cuts           atomic.Int32
	refuseAfterCut atomic.Bool
	refusing       atomic.Bool
	holds          atomic.Int32
	holdFor        time.Duration
}

func startCutProxy(t *testing.T, srv *slapdtest.Server) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	p := &cutProxy{ln: ln, target: strings.TrimPrefix(srv.URL, "ldap://")}
	go p.serve()
	return p
}

func (p *cutProxy) url() string { return "ldap://" + p.ln.Addr().String() }

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.refusing.Load() {
			_ = c.Close()
			continue
		}
		go p.relay(c)
	}
}

// relay copies requests as they come and responses one LDAP message at a
// time, so it can stop at a write response.
func (p *cutProxy) relay(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer server.Close()
	go func() { _, _ = io.Copy(server, client); _ = server.Close() }()
	var raw bytes.Buffer
	for {
		raw.Reset()
		packet, err := ber.ReadPacket(io.TeeReader(server, &raw))
		if err != nil {
			return
		}
		if isWriteResponse(packet) && p.cuts.Add(-1) >= 0 {
			p.refusing.Store(p.refuseAfterCut.Load())
			return
		}
		if isWriteResponse(packet) && p.holds.Add(-1) >= 0 {
			time.Sleep(p.holdFor)
		}
		if _, err := client.Write(raw.Bytes()); err != nil {
			return
		}
	}
}

func isWriteResponse(p *ber.Packet) bool {
	if len(p.Children) < 2 {
		return false
	}
	switch p.Children[1].Tag {
	case ldap.ApplicationAddResponse, ldap.ApplicationModifyResponse, ldap.ApplicationDelResponse:
		return true
	}
	return false
}

// TestWriteAppliedBeforeItsAnswerWasLost: slapd applies a write whose
// answer is lost with the connection; the pool sends it again on a fresh
// connection, where it fails (the entry exists, the guard moved on) or
// breaks too. The store must recognise its own write and answer success:
// otherwise a client whose token was rotated is told its token is wrong
// and locked out, and a registration is retried under another ID,
// orphaning the first. Run with the directory's controls and without.
func TestWriteAppliedBeforeItsAnswerWasLost(t *testing.T) {
	srv := server(t)
	for name, mode := range storeModes {
		t.Run(name, func(t *testing.T) {
			proxy := startCutProxy(t, srv)
			s := mode(storeAt(t, srv, func(c *Config) { c.URLs = []string{proxy.url()} }))
			testLostAnswers(t, s, proxy)
		})
	}
}

// TestWriteAppliedBeforeItTimedOut: a write whose answer comes after the
// store's timeout is sent again like one whose connection broke, and must
// be recognised the same way.
func TestWriteAppliedBeforeItTimedOut(t *testing.T) {
	srv := server(t)
	for name, mode := range storeModes {
		t.Run(name, func(t *testing.T) {
			proxy := startCutProxy(t, srv)
			proxy.holdFor = 700 * time.Millisecond
			s := mode(storeAt(t, srv, func(c *Config) {
				c.URLs, c.Timeout = []string{proxy.url()}, 300*time.Millisecond
			}))
			r := storetest.NewRecord("late-" + strings.ReplaceAll(name, " ", "-"))
			r.RegistrationTokenHash = freshTokenHash()
			proxy.holds.Store(1)
			if err := s.Create(t.Context(), r); err != nil || proxy.holds.Load() > 0 {
				t.Fatalf("create answered late (holds left %d): %v", proxy.holds.Load(), err)
			}
			next := freshTokenHash()
			proxy.holds.Store(1)
			got, err := s.Update(t.Context(), r.ID, replacement(r.RegistrationTokenHash, "R", "https://r.example.com/cb", next))
			if err != nil || got.RegistrationTokenHash != next || proxy.holds.Load() > 0 {
				t.Fatalf("rotation answered late (holds left %d): %+v, %v", proxy.holds.Load(), got.RegistrationTokenHash, err)
			}
		})
	}
}

// storeModes are the directory's controls on, and off as on a server
// without them.
var storeModes = map[string]func(*Store) *Store{
	"controls":    func(s *Store) *Store { return s },
	"no controls": withoutControls,
}

func freshTokenHash() string { return credentials.HashToken(credentials.NewRegistrationToken()) }

func testLostAnswers(t *testing.T, s *Store, proxy *cutProxy) {
	ctx := t.Context()
	create := func(t *testing.T, id string) client.Record {
		t.Helper()
		r := storetest.NewRecord(id)
		r.RegistrationTokenHash = freshTokenHash()
		if err := s.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	// cut runs write with n write answers lost, and checks they were and
	// that the write's answer and the entry hold token.
	cut := func(t *testing.T, n int32, id, token string, write func() (client.Record, error)) {
		t.Helper()
		proxy.cuts.Store(n)
		got, err := write()
		if err != nil {
			t.Fatalf("write whose answer was lost: %v", err)
		}
		if left := proxy.cuts.Load(); left > 0 {
			t.Fatalf("%d of %d cuts left", left, n)
		}
		stored, err := s.Get(ctx, id)
		if err != nil || got.RegistrationTokenHash != token || stored.RegistrationTokenHash != token {
			t.Fatalf("answered token %q, stored %q (%v); want %q", got.RegistrationTokenHash, stored.RegistrationTokenHash, err, token)
		}
	}
	rotation := func(tokenHash, next string) func(client.Record) (client.Record, error) {
		return replacement(tokenHash, "R", "https://r.example.com/cb", next)
	}
	register := func(t *testing.T, r client.Record) {
		t.Helper()
		cut(t, 1, r.ID, r.RegistrationTokenHash, func() (client.Record, error) { return r, s.Create(ctx, r) })
	}

	t.Run("create", func(t *testing.T) {
		r := storetest.NewRecord("cut-create")
		r.RegistrationTokenHash = freshTokenHash()
		register(t, r)
	})
	t.Run("create without a token", func(t *testing.T) {
		r := storetest.NewRecord("cut-create-no-rat")
		r.RegistrationTokenHash = ""
		register(t, r)
	})
	for _, tc := range []struct {
		name, id string
		cuts     int32
		remember bool
	}{
		{"rotating update of a remembered entry", "cut-known", 1, true},
		{"rotating update, the ordinary way", "cut-replace", 1, false},
		{"rotating update whose resend breaks too", "cut-twice", 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := create(t, tc.id)
			if !tc.remember {
				s.known.forget(r.ID)
			}
			next := freshTokenHash()
			cut(t, tc.cuts, r.ID, next, func() (client.Record, error) {
				return s.Update(ctx, r.ID, rotation(r.RegistrationTokenHash, next))
			})
		})
	}
	for _, remember := range []bool{true, false} {
		t.Run(fmt.Sprintf("update without rotation is sent again (remembered: %v)", remember), func(t *testing.T) {
			r := create(t, fmt.Sprintf("cut-norotate-%v", remember))
			if !remember {
				s.known.forget(r.ID)
			}
			cut(t, 1, r.ID, r.RegistrationTokenHash, func() (client.Record, error) {
				return s.Update(ctx, r.ID, rotation(r.RegistrationTokenHash, ""))
			})
		})
	}
	t.Run("delete", func(t *testing.T) {
		r := create(t, "cut-delete")
		proxy.cuts.Store(1)
		if _, err := s.DeleteIfManageable(ctx, r.ID, r.RegistrationTokenHash, time.Now()); err != nil || proxy.cuts.Load() > 0 {
			t.Fatalf("delete whose answer was lost (cuts left %d): %v", proxy.cuts.Load(), err)
		}
		if _, err := s.Get(ctx, r.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("after delete: %v", err)
		}
	})
	t.Run("a wrong token whose refusal was lost is still refused", func(t *testing.T) {
		r := create(t, "cut-wrong")
		proxy.cuts.Store(1)
		_, err := s.Update(ctx, r.ID, rotation(freshTokenHash(), freshTokenHash()))
		proxy.cuts.Store(0) // a wrong token never gets as far as a Modify to cut
		if !errors.Is(err, store.ErrTokenMismatch) {
			t.Fatalf("wrong token: %v", err)
		}
		if got, err := s.Get(ctx, r.ID); err != nil || got.RegistrationTokenHash != r.RegistrationTokenHash {
			t.Fatalf("stored %+v, %v", got, err)
		}
	})
	// Last: the directory stays unreachable through the proxy.
	t.Run("outcome unknown", func(t *testing.T) {
		r := create(t, "cut-unknown")
		proxy.cuts.Store(1)
		proxy.refuseAfterCut.Store(true)
		_, err := s.Update(ctx, r.ID, rotation(r.RegistrationTokenHash, freshTokenHash()))
		if !errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrTokenMismatch) {
			t.Fatalf("a rotation whose outcome cannot be read back: %v, want unavailable", err)
		}
	})
}
