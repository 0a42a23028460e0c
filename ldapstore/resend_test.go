package ldapstore

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
	"github.com/dcrgate/dcrgate/store"
	"github.com/dcrgate/dcrgate/store/storetest"
)

// cutProxy relays LDAP between a store and slapd. Armed, it swallows the
// next write response and drops the connection: the write is applied, its
// answer lost, as when a connection breaks while a request is in flight.
type cutProxy struct {
	ln     net.Listener
	target string
	armed  atomic.Bool
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
		if isWriteResponse(packet) && p.armed.CompareAndSwap(true, false) {
			return
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

// TestWriteAppliedBeforeItsConnectionBroke: slapd applies a write whose
// answer is lost with the connection; the pool sends it again on a fresh
// connection, where it fails (the entry exists, the guard moved on). The
// store must recognise its own write and answer success: otherwise a
// client whose token was rotated is told its token is wrong and locked out,
// and a registration is retried under another ID, orphaning the first.
func TestWriteAppliedBeforeItsConnectionBroke(t *testing.T) {
	srv := server(t)
	proxy := startCutProxy(t, srv)
	s := storeAt(t, srv, func(c *Config) { c.URLs = []string{proxy.url()} })
	ctx := t.Context()
	newToken := func() string { return credentials.HashToken(credentials.NewRegistrationToken()) }
	create := func(t *testing.T, id string) client.Record {
		t.Helper()
		r := storetest.NewRecord(id)
		r.RegistrationTokenHash = newToken()
		if err := s.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	// cut runs write with the proxy armed, checks the cut happened and that
	// the entry then holds token.
	cut := func(t *testing.T, id, token string, write func() (client.Record, error)) {
		t.Helper()
		proxy.armed.Store(true)
		got, err := write()
		if err != nil {
			t.Fatalf("write whose answer was lost: %v", err)
		}
		if proxy.armed.Load() {
			t.Fatal("the proxy never cut a write")
		}
		stored, err := s.Get(ctx, id)
		if err != nil || got.RegistrationTokenHash != token || stored.RegistrationTokenHash != token {
			t.Fatalf("answered token %q, stored %q (%v); want %q", got.RegistrationTokenHash, stored.RegistrationTokenHash, err, token)
		}
	}
	rotation := func(r client.Record) store.Replacement {
		return store.Replacement{Metadata: r.Metadata, SecretHash: r.Secrets[0].Hash, TokenHash: newToken()}
	}

	t.Run("create", func(t *testing.T) {
		r := storetest.NewRecord("cut-create")
		r.RegistrationTokenHash = newToken()
		proxy.armed.Store(true)
		if err := s.Create(ctx, r); err != nil || proxy.armed.Load() {
			t.Fatalf("create whose answer was lost (cut: %t): %v", !proxy.armed.Load(), err)
		}
		if got, err := s.Get(ctx, r.ID); err != nil || got.RegistrationTokenHash != r.RegistrationTokenHash {
			t.Fatalf("stored %+v, %v", got, err)
		}
	})
	t.Run("rotating replace of a remembered entry", func(t *testing.T) {
		r := create(t, "cut-known")
		rep := rotation(r)
		cut(t, r.ID, rep.TokenHash, func() (client.Record, error) {
			return s.ReplaceIfTokenHash(ctx, r.ID, r.RegistrationTokenHash, rep)
		})
	})
	t.Run("rotating replace, the ordinary way", func(t *testing.T) {
		r := create(t, "cut-replace")
		s.known.forget(r.ID)
		rep := rotation(r)
		cut(t, r.ID, rep.TokenHash, func() (client.Record, error) {
			return s.ReplaceIfTokenHash(ctx, r.ID, r.RegistrationTokenHash, rep)
		})
	})
	t.Run("rotating update", func(t *testing.T) {
		r := create(t, "cut-update")
		next := newToken()
		cut(t, r.ID, next, func() (client.Record, error) {
			return s.Update(ctx, r.ID, func(c client.Record) (client.Record, error) {
				if c.RegistrationTokenHash != r.RegistrationTokenHash {
					return c, errors.New("token no longer matches") // what GET with rotation checks
				}
				c.RegistrationTokenHash = next
				return c, nil
			})
		})
	})
	t.Run("replace without rotation is sent again", func(t *testing.T) {
		r := create(t, "cut-norotate")
		s.known.forget(r.ID)
		rep := rotation(r)
		rep.TokenHash = ""
		cut(t, r.ID, r.RegistrationTokenHash, func() (client.Record, error) {
			return s.ReplaceIfTokenHash(ctx, r.ID, r.RegistrationTokenHash, rep)
		})
	})
	t.Run("delete", func(t *testing.T) {
		r := create(t, "cut-delete")
		proxy.armed.Store(true)
		if err := s.DeleteIfTokenHash(ctx, r.ID, r.RegistrationTokenHash); err != nil || proxy.armed.Load() {
			t.Fatalf("delete whose answer was lost (cut: %t): %v", !proxy.armed.Load(), err)
		}
		if _, err := s.Get(ctx, r.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("after delete: %v", err)
		}
	})
	t.Run("a failed guard after a resend is still a wrong token", func(t *testing.T) {
		r := create(t, "cut-wrong")
		proxy.armed.Store(true) // the refusal is cut, and the resent Modify refused again
		_, err := s.ReplaceIfTokenHash(ctx, r.ID, newToken(), rotation(r))
		if !errors.Is(err, ErrTokenMismatch) || proxy.armed.Load() {
			t.Fatalf("wrong token, its answer cut (%t): %v", !proxy.armed.Load(), err)
		}
		if got, err := s.Get(ctx, r.ID); err != nil || got.RegistrationTokenHash != r.RegistrationTokenHash {
			t.Fatalf("stored %+v, %v", got, err)
		}
	})
}
