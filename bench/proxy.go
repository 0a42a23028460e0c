package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
)

// ldapOps names the LDAP protocol operations by their [APPLICATION n] tag
// (RFC 4511 §4.2); responses never travel client-to-server, so these are
// the requests.
var ldapOps = map[int]string{0: "bind", 2: "unbind", 3: "search", 6: "modify", 8: "add", 10: "delete",
	12: "modrdn", 14: "compare", 16: "abandon", 23: "extended"}

// countingProxy forwards loopback LDAP connections to a server and counts
// the requests that pass, by operation. It is how the tool counts round trips
// per API call when dcrgate exports no LDAP metric and the directory has no
// cn=monitor: it sees exactly what dcrgate sends.
type countingProxy struct {
	ln       net.Listener
	upstream string

	mu     sync.Mutex
	counts map[string]float64
	wg     sync.WaitGroup
}

func startProxy(ldapURL string) (*countingProxy, error) {
	u, err := url.Parse(ldapURL)
	if err != nil || u.Scheme != "ldap" {
		return nil, fmt.Errorf("counting proxy needs an ldap:// URL, got %q", ldapURL)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &countingProxy{ln: ln, upstream: u.Host, counts: map[string]float64{}}
	p.wg.Go(p.accept)
	return p, nil
}

// URL is the proxy's address as an LDAP URL.
func (p *countingProxy) URL() string { return "ldap://" + p.ln.Addr().String() }

func (p *countingProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // listener closed
		}
		p.wg.Go(func() { p.pipe(c) })
	}
}

// pipe copies the server's answers back verbatim and reads the client's
// stream one LDAPMessage at a time, counting each before forwarding it.
func (p *countingProxy) pipe(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", p.upstream)
	if err != nil {
		return
	}
	defer server.Close()
	go func() { _, _ = io.Copy(client, server); client.Close() }()
	r := bufio.NewReader(client)
	for {
		msg, err := readMessage(r)
		if err != nil {
			return
		}
		if tag, err := protocolOp(msg); err == nil {
			p.count(tag)
		}
		if _, err := server.Write(msg); err != nil {
			return
		}
	}
}

func (p *countingProxy) count(tag int) {
	name, ok := ldapOps[tag]
	if !ok {
		name = fmt.Sprintf("op%d", tag)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[name]++
}

func (p *countingProxy) snapshot() map[string]float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]float64, len(p.counts))
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

// close stops accepting; open connections end when their peers close them.
func (p *countingProxy) close() { _ = p.ln.Close() }

// maxMessage bounds one LDAP message read by the proxy (dcrgate's largest is
// a few KiB).
const maxMessage = 16 << 20

var errBadBER = errors.New("bench: malformed BER")

// berHeader parses a BER tag and definite length at the start of b and
// returns the header's length and the content's length.
func berHeader(b []byte) (hdr, content int, err error) {
	if len(b) < 2 {
		return 0, 0, io.ErrUnexpectedEOF
	}
	if b[1] < 0x80 {
		return 2, int(b[1]), nil
	}
	n := int(b[1] & 0x7f)
	if n == 0 || n > 4 {
		return 0, 0, errBadBER
	}
	if len(b) < 2+n {
		return 0, 0, io.ErrUnexpectedEOF
	}
	for _, c := range b[2 : 2+n] {
		content = content<<8 | int(c)
	}
	return 2 + n, content, nil
}

// readMessage reads one whole BER element from r.
func readMessage(r *bufio.Reader) ([]byte, error) {
	head, err := r.Peek(2)
	if err != nil {
		return nil, err
	}
	peek := 2
	if head[1] >= 0x80 {
		peek += int(head[1] & 0x7f)
	}
	if head, err = r.Peek(peek); err != nil {
		return nil, err
	}
	hdr, content, err := berHeader(head)
	if err != nil {
		return nil, err
	}
	if hdr+content > maxMessage {
		return nil, errBadBER
	}
	msg := make([]byte, hdr+content)
	_, err = io.ReadFull(r, msg)
	return msg, err
}

// protocolOp returns the [APPLICATION n] tag of an LDAPMessage: the
// SEQUENCE holds the messageID INTEGER, then the operation.
func protocolOp(msg []byte) (int, error) {
	hdr, _, err := berHeader(msg)
	if err != nil {
		return 0, err
	}
	idHdr, idLen, err := berHeader(msg[hdr:])
	if err != nil {
		return 0, err
	}
	at := hdr + idHdr + idLen
	if at >= len(msg) || msg[at]&0xc0 != 0x40 {
		return 0, errBadBER
	}
	return int(msg[at] & 0x1f), nil
}
