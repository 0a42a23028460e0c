package main

import (
	"fmt"
	"net"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// directory is where the clients live and how to bind to it.
type directory struct {
	URL, BindDN, BindPassword, BaseDN string
}

// connPool is a fixed set of bound connections, the same size as dcrgate's
// pool, so the raw baseline has the same parallelism towards slapd.
type connPool struct {
	dir   directory
	conns chan *ldap.Conn
}

// dialTimeout bounds every dial and every raw operation.
const dialTimeout = 10 * time.Second

func newConnPool(dir directory, size int) (*connPool, error) {
	p := &connPool{dir: dir, conns: make(chan *ldap.Conn, size)}
	for range size {
		conn, err := p.dial()
		if err != nil {
			p.close()
			return nil, err
		}
		p.conns <- conn
	}
	return p, nil
}

func (p *connPool) dial() (*ldap.Conn, error) {
	conn, err := ldap.DialURL(p.dir.URL, ldap.DialWithDialer(&net.Dialer{Timeout: dialTimeout}))
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", p.dir.URL, err)
	}
	conn.SetTimeout(dialTimeout)
	if err := conn.Bind(p.dir.BindDN, p.dir.BindPassword); err != nil {
		conn.Close()
		return nil, fmt.Errorf("bind as %s: %w", p.dir.BindDN, err)
	}
	return conn, nil
}

// do runs op on a pooled connection, waiting for one to be free. A
// connection that failed at the network level is replaced.
func (p *connPool) do(op func(*ldap.Conn) error) error {
	conn := <-p.conns
	err := op(conn)
	if ldap.IsErrorWithCode(err, ldap.ErrorNetwork) || conn.IsClosing() {
		conn.Close()
		if fresh, dialErr := p.dial(); dialErr == nil {
			conn = fresh
		}
	}
	p.conns <- conn
	return err
}

func (p *connPool) close() {
	for {
		select {
		case conn := <-p.conns:
			conn.Close()
		default:
			return
		}
	}
}
