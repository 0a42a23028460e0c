package ldapstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/store"
)

// errClosed is returned once Close has been called.
var errClosed = errors.New("ldapstore: store closed")

// Health checks and redial backoff.
const (
	// healthAfter is how long a connection may sit idle before it is probed
	// on reuse: firewalls and load balancers drop idle TCP sessions silently.
	healthAfter = 30 * time.Second
	// downMin and downMax bound how long a server that failed to dial is
	// tried only after the others, doubling on each failure in a row.
	downMin = time.Second
	downMax = time.Minute
)

// pool holds up to cfg.PoolSize connections, each bound as cfg.BindDN. A
// connection that fails with a network error is closed, never reused; the
// next acquire dials again, trying the URLs in order, which is how the store
// fails over to a replica and back. A server that failed to dial is tried
// last until its backoff ends, so failover does not pay a dead server's
// connect timeout on every dial.
type pool struct {
	cfg     Config
	logger  *slog.Logger
	metrics *opMetrics
	// slots holds one token per connection that may exist (idle or in use).
	slots chan struct{}

	mu     sync.Mutex
	idle   []idleConn
	down   map[string]downState
	closed bool
}

type idleConn struct {
	conn  *ldap.Conn
	since time.Time
}

// downState is a server's run of failed dials.
type downState struct {
	failures int
	until    time.Time
}

// errMaybeApplied marks the outcome of a request that was in flight when
// its connection broke: a write may have been applied without its answer
// getting back, whatever the resend (or the failure to resend) says.
var errMaybeApplied = errors.New("ldapstore: a request was lost in flight with its connection")

func newPool(cfg Config, logger *slog.Logger, metrics *opMetrics) *pool {
	return &pool{cfg: cfg, logger: logger, metrics: metrics, slots: make(chan struct{}, cfg.PoolSize),
		down: map[string]downState{}}
}

// do runs op, one LDAP request named kind, on a pooled connection. A
// network error on a connection that sat idle (the server may have
// restarted or died meanwhile) is retried once on a freshly dialled one;
// any other network error wraps store.ErrUnavailable. Retrying a write
// never applies it twice: an Add that did get through answers
// entryAlreadyExists, a Modify or Delete its failed revision or assertion
// guard. But once a request was in flight when its connection broke, the
// directory may have applied it without the answer getting back, so
// whatever do answers then is marked errMaybeApplied for the caller to
// find out (Store.appliedEarlier).
func (p *pool) do(ctx context.Context, kind string, op func(*ldap.Conn) error) error {
	inFlightLost := false
	for retried := false; ; retried = true {
		conn, reused, err := p.acquire(ctx)
		if err != nil {
			return markLost(inFlightLost, err)
		}
		err = op(conn)
		// go-ldap reports a connection that died mid-request with a plain
		// error ("unable to read LDAP response packet"), not ErrorNetwork,
		// and a request that timed out with ErrorNetwork on a connection it
		// leaves open: either way the request may have been applied.
		broken := err != nil && (conn.IsClosing() || ldap.IsErrorWithCode(err, ldap.ErrorNetwork))
		p.metrics.observe(kind, err)
		p.release(conn, err)
		inFlightLost = inFlightLost || broken
		if !broken && !isUnavailable(err) {
			return markLost(inFlightLost, err)
		}
		if !reused || retried {
			return markLost(inFlightLost, fmt.Errorf("%w: %w", store.ErrUnavailable, err))
		}
		p.logger.DebugContext(ctx, "ldap connection went stale, redialling", "err", err)
	}
}

// markLost marks err (nil stays nil) errMaybeApplied if a request was lost
// in flight on the way to it.
func markLost(inFlightLost bool, err error) error {
	if !inFlightLost || err == nil {
		return err
	}
	return fmt.Errorf("%w: %w", errMaybeApplied, err)
}

// acquire waits at most cfg.Timeout for a slot, then reuses an idle
// connection or dials a new one. reused tells do whether a failure may be
// the connection's age rather than the server's state.
func (p *pool) acquire(ctx context.Context) (conn *ldap.Conn, reused bool, err error) {
	if err := p.takeSlot(ctx); err != nil {
		return nil, false, err
	}
	conn, err = p.popIdle(ctx)
	if err == nil && conn == nil {
		conn, err = p.dial(ctx, true)
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
		return nil, false, fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	conn.SetTimeout(timeout)
	return conn, reused, nil
}

// takeSlot waits at most cfg.Timeout for room for one more connection. A
// free slot, the usual case, is taken without arming a timer: every LDAP
// operation passes here.
func (p *pool) takeSlot(ctx context.Context) error {
	select {
	case p.slots <- struct{}{}:
		return nil
	default:
	}
	timer := time.NewTimer(p.cfg.Timeout)
	defer timer.Stop()
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: waiting for a connection: %w", store.ErrUnavailable, ctx.Err())
	case <-timer.C:
		return fmt.Errorf("%w: no free LDAP connection within %s", store.ErrUnavailable, p.cfg.Timeout)
	}
}

// popIdle returns an idle connection that is still open and, if it sat idle
// long, still answers; nil if there is none.
func (p *pool) popIdle(ctx context.Context) (*ldap.Conn, error) {
	for {
		c, err := p.popIdleLocked()
		if c.conn == nil || err != nil {
			return nil, err
		}
		if time.Since(c.since) < healthAfter || p.healthy(ctx, c.conn) {
			return c.conn, nil
		}
		_ = c.conn.Close()
	}
}

func (p *pool) popIdleLocked() (idleConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return idleConn{}, fmt.Errorf("%w: %w", store.ErrUnavailable, errClosed)
	}
	for len(p.idle) > 0 {
		c := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if !c.conn.IsClosing() {
			return c, nil
		}
		_ = c.conn.Close()
	}
	return idleConn{}, nil
}

// healthy probes conn with the cheapest read there is, the root DSE with no
// attributes (RFC 4512 §5.1).
func (p *pool) healthy(ctx context.Context, conn *ldap.Conn) bool {
	timeout, err := opTimeout(ctx, p.cfg.Timeout)
	if err != nil {
		return false
	}
	conn.SetTimeout(timeout)
	_, err = conn.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 0, false, "(objectClass=*)", []string{"1.1"}, nil))
	p.metrics.observe(opSearch, err)
	return err == nil
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
	p.idle = append(p.idle, idleConn{conn: conn, since: time.Now()})
}

// dial connects to the first URL that answers, servers in backoff last,
// and binds as the service account if bind is set.
func (p *pool) dial(ctx context.Context, bind bool) (*ldap.Conn, error) {
	var errs []error
	for _, u := range p.dialOrder() {
		conn, err := p.dialOne(ctx, u, bind)
		p.markDial(u, err)
		if err == nil {
			return conn, nil
		}
		p.logger.WarnContext(ctx, "ldap server unusable, trying the next", "url", u, "err", err)
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("%w: %w", store.ErrUnavailable, errors.Join(errs...))
}

// dialOrder lists the URLs in configured order, those in backoff moved to
// the end (still tried: they may be the only ones left).
func (p *pool) dialOrder() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	urls := slices.Clone(p.cfg.URLs)
	slices.SortStableFunc(urls, func(a, b string) int {
		return boolInt(now.Before(p.down[a].until)) - boolInt(now.Before(p.down[b].until))
	})
	return urls
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// markDial records a dial's outcome for dialOrder's backoff.
func (p *pool) markDial(u string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		delete(p.down, u)
		return
	}
	d := p.down[u]
	d.failures++
	d.until = time.Now().Add(min(downMax, downMin<<min(d.failures-1, 6)))
	p.down[u] = d
}

// dialOne connects, secures and binds within the caller's time (at most
// cfg.Timeout) as a whole: go-ldap times each request on its own, so each
// step gets what the previous ones left, and a slow StartTLS does not buy
// the bind a second timeout.
func (p *pool) dialOne(ctx context.Context, rawURL string, bind bool) (*ldap.Conn, error) {
	timeout, err := opTimeout(ctx, p.cfg.Timeout)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	opts := []ldap.DialOpt{ldap.DialWithDialer(&net.Dialer{Deadline: deadline})}
	if strings.HasPrefix(strings.ToLower(rawURL), "ldaps:") {
		opts = append(opts, ldap.DialWithTLSConfig(tlsFor(p.cfg.TLS, rawURL)))
	}
	conn, err := ldap.DialURL(rawURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", rawURL, err)
	}
	if err := p.secure(conn, rawURL, deadline); err != nil {
		_ = conn.Close()
		return nil, err
	}
	if bind && p.cfg.BindDN != "" {
		if err := p.bind(conn, deadline); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("bind to %s as %q: %w", rawURL, p.cfg.BindDN, err)
		}
	}
	return conn, nil
}

// bind binds conn as the service account before deadline.
func (p *pool) bind(conn *ldap.Conn, deadline time.Time) error {
	if err := timeoutUntil(conn, deadline); err != nil {
		return err
	}
	err := conn.Bind(p.cfg.BindDN, p.cfg.BindPassword)
	p.metrics.observe(opBind, err)
	return err
}

// timeoutUntil sets conn's request timeout to the time left until
// deadline, or fails if none is left.
func timeoutUntil(conn *ldap.Conn, deadline time.Time) error {
	left := time.Until(deadline)
	if left <= 0 {
		return context.DeadlineExceeded
	}
	conn.SetTimeout(left)
	return nil
}

// secure upgrades an ldap:// connection with StartTLS (RFC 4513 §3) when
// configured; ldaps:// is TLS from the first byte. go-ldap bounds the
// StartTLS request but not the handshake that follows it.
func (p *pool) secure(conn *ldap.Conn, rawURL string, deadline time.Time) error {
	u, err := url.Parse(rawURL)
	if !p.cfg.StartTLS || err != nil || !strings.EqualFold(u.Scheme, "ldap") {
		return nil
	}
	if err := timeoutUntil(conn, deadline); err != nil {
		return fmt.Errorf("StartTLS with %s: %w", rawURL, err)
	}
	err = conn.StartTLS(tlsFor(p.cfg.TLS, rawURL))
	p.metrics.observe(opStartTLS, err)
	if err != nil {
		return fmt.Errorf("StartTLS with %s: %w", rawURL, err)
	}
	return nil
}

// close closes idle connections now and busy ones when they are released.
func (p *pool) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, c := range p.idle {
		_ = c.conn.Close()
	}
	p.idle = nil
	return nil
}

// opTimeout is the per-operation timeout: cfg.Timeout, shortened to the
// context's deadline, since go-ldap operations do not take a context. A
// deadline already past is an error even before the context says so: to
// go-ldap a timeout of zero or less means none at all.
func opTimeout(ctx context.Context, max time.Duration) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if deadline, ok := ctx.Deadline(); ok {
		left := time.Until(deadline)
		if left <= 0 {
			return 0, context.DeadlineExceeded
		}
		return min(max, left), nil
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

// fresh runs op on a new, unbound connection that is closed afterwards,
// for binds as someone other than the service account. It takes a pool
// slot, so it counts against PoolSize like any other connection.
func (p *pool) fresh(ctx context.Context, op func(*ldap.Conn) error) error {
	if err := p.takeSlot(ctx); err != nil {
		return err
	}
	defer func() { <-p.slots }()
	conn, err := p.dial(ctx, false)
	if err != nil {
		return err
	}
	defer conn.Close()
	timeout, err := opTimeout(ctx, p.cfg.Timeout)
	if err != nil {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	conn.SetTimeout(timeout)
	return op(conn)
}
