package ldapstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/store"
)

// errClosed is returned once Close has been called.
var errClosed = errors.New("ldapstore: store closed")

// pool holds up to cfg.PoolSize connections, each bound as cfg.BindDN. A
// connection that fails with a network error is closed, never reused; the
// next acquire dials again, trying the URLs in order, which is how the store
// fails over to a replica and back.
type pool struct {
	cfg    Config
	logger *slog.Logger
	// slots holds one token per connection that may exist (idle or in use).
	slots chan struct{}

	mu     sync.Mutex
	idle   []*ldap.Conn
	closed bool
}

func newPool(cfg Config, logger *slog.Logger) *pool {
	return &pool{cfg: cfg, logger: logger, slots: make(chan struct{}, cfg.PoolSize)}
}

// do runs op on a pooled connection. A network error on a connection that
// sat idle (the server may have restarted meanwhile) is retried once on a
// freshly dialled one; any other network error wraps store.ErrUnavailable.
func (p *pool) do(ctx context.Context, op func(*ldap.Conn) error) error {
	for retried := false; ; retried = true {
		conn, reused, err := p.acquire(ctx)
		if err != nil {
			return err
		}
		err = op(conn)
		p.release(conn, err)
		if !isUnavailable(err) {
			return err
		}
		if !reused || retried {
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
		p.logger.DebugContext(ctx, "ldap connection went stale, redialling", "err", err)
	}
}

// acquire waits at most cfg.Timeout for a slot, then reuses an idle
// connection or dials a new one. reused tells do whether a failure may be
// the connection's age rather than the server's state.
func (p *pool) acquire(ctx context.Context) (conn *ldap.Conn, reused bool, err error) {
	timer := time.NewTimer(p.cfg.Timeout)
	defer timer.Stop()
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, false, fmt.Errorf("%w: waiting for a connection: %w", store.ErrUnavailable, ctx.Err())
	case <-timer.C:
		return nil, false, fmt.Errorf("%w: no free LDAP connection within %s", store.ErrUnavailable, p.cfg.Timeout)
	}
	conn, err = p.popIdle()
	if err == nil && conn == nil {
		conn, err = p.dial(ctx)
	} else if conn != nil {
		reused = true
	}
	if err != nil {
		<-p.slots
		return nil, false, err
	}
	timeout, err := opTimeout(ctx, p.cfg.Timeout)
	if err != nil {
		p.release(conn, nil)
		return nil, false, err
	}
	conn.SetTimeout(timeout)
	return conn, reused, nil
}

// popIdle returns an idle connection that is still open, or nil.
func (p *pool) popIdle() (*ldap.Conn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, fmt.Errorf("%w: %w", store.ErrUnavailable, errClosed)
	}
	for len(p.idle) > 0 {
		conn := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if !conn.IsClosing() {
			return conn, nil
		}
		_ = conn.Close()
	}
	return nil, nil
}

// release returns conn to the idle list unless opErr shows it is broken or
// the pool is closed, and frees its slot.
func (p *pool) release(conn *ldap.Conn, opErr error) {
	defer func() { <-p.slots }()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || conn.IsClosing() || ldap.IsErrorWithCode(opErr, ldap.ErrorNetwork) {
		_ = conn.Close()
		return
	}
	p.idle = append(p.idle, conn)
}

// dial connects to the first URL that answers and binds.
func (p *pool) dial(ctx context.Context) (*ldap.Conn, error) {
	var errs []error
	for _, url := range p.cfg.URLs {
		conn, err := p.dialOne(ctx, url)
		if err == nil {
			return conn, nil
		}
		p.logger.WarnContext(ctx, "ldap server unusable, trying the next", "url", url, "err", err)
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("%w: %w", store.ErrUnavailable, errors.Join(errs...))
}

func (p *pool) dialOne(ctx context.Context, url string) (*ldap.Conn, error) {
	timeout, err := opTimeout(ctx, p.cfg.Timeout)
	if err != nil {
		return nil, err
	}
	opts := []ldap.DialOpt{ldap.DialWithDialer(&net.Dialer{Timeout: timeout})}
	if p.cfg.TLS != nil {
		opts = append(opts, ldap.DialWithTLSConfig(p.cfg.TLS))
	}
	conn, err := ldap.DialURL(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	conn.SetTimeout(timeout)
	if p.cfg.BindDN != "" {
		if err := conn.Bind(p.cfg.BindDN, p.cfg.BindPassword); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("bind to %s as %q: %w", url, p.cfg.BindDN, err)
		}
	}
	return conn, nil
}

// close closes idle connections now and busy ones when they are released.
func (p *pool) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, conn := range p.idle {
		_ = conn.Close()
	}
	p.idle = nil
	return nil
}

// opTimeout is the per-operation timeout: cfg.Timeout, shortened to the
// context's deadline, since go-ldap operations do not take a context.
func opTimeout(ctx context.Context, max time.Duration) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if deadline, ok := ctx.Deadline(); ok {
		return min(max, time.Until(deadline)), nil
	}
	return max, nil
}

// isUnavailable reports failures that are the directory's state, not the
// request's: network errors, and servers that say they are busy or
// unavailable (e.g. a replica shutting down).
func isUnavailable(err error) bool {
	return ldap.IsErrorWithCode(err, ldap.ErrorNetwork) ||
		ldap.IsErrorWithCode(err, ldap.LDAPResultBusy) ||
		ldap.IsErrorWithCode(err, ldap.LDAPResultUnavailable)
}
