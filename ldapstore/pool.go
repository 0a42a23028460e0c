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
// connect timeout on every dial. When a dial fails on every server, the
// outage breaker refuses requests at once until one probe reconnects, so
// that a directory outage is neither a dial storm nor a log flood. With
// Config.MultiProvider the order is sorted and failed providers are
// fenced until failback probes readmit them (providers.go).
type pool struct {
	cfg     Config
	logger  *slog.Logger
	metrics *opMetrics
	// slots holds one token per connection that may exist (idle or in use).
	slots  chan struct{}
	outage *outage

	mu   sync.Mutex
	idle []idleConn
	down map[string]downState
	// origin is the URL each pooled connection was dialled to, and fence
	// the providers not in use, for Config.MultiProvider (providers.go).
	origin    map[*ldap.Conn]string
	fence     *fence
	stopProbe chan struct{}
	closed    bool
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
	metrics.setUp(true)
	p := &pool{cfg: cfg, logger: logger, metrics: metrics, slots: make(chan struct{}, cfg.PoolSize),
		outage: newOutage(metrics.setUp), down: map[string]downState{}, origin: map[*ldap.Conn]string{}}
	if cfg.MultiProvider {
		p.fence, p.stopProbe = newFence(), make(chan struct{})
		go p.probeFenced(p.stopProbe)
	}
	return p
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
		start := time.Now()
		err = op(conn)
		// go-ldap reports a connection that died mid-request with a plain
		// error ("unable to read LDAP response packet"), not ErrorNetwork,
		// and a request that timed out with ErrorNetwork on a connection it
		// leaves open: either way the request may have been applied.
		broken := err != nil && (conn.IsClosing() || ldap.IsErrorWithCode(err, ldap.ErrorNetwork))
		p.metrics.observe(kind, err, start)
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
// connection or dials a new one. While the directory is down it fails at
// once, before waiting for a slot (hung requests may hold them all),
// except for the one caller whose dial probes the directory. reused tells
// do whether a failure may be the connection's age rather than the
// server's state.
func (p *pool) acquire(ctx context.Context) (conn *ldap.Conn, reused bool, err error) {
	if err := p.fence.wait(ctx); err != nil {
		return nil, false, err
	}
	probe, err := p.admit(ctx)
	if err != nil {
		return nil, false, err
	}
	if err := p.takeSlot(ctx); err != nil {
		p.settle(ctx, probe, untried, nil)
		return nil, false, err
	}
	if conn, reused, err = p.connection(ctx, probe); err != nil {
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

// connection reuses an idle connection or dials a new one once the outage
// breaker admits it (again: the directory may have gone down while the
// caller waited for a slot). A probe always dials: idle connections were
// closed when the directory went down.
func (p *pool) connection(ctx context.Context, probe bool) (conn *ldap.Conn, reused bool, err error) {
	if !probe {
		if conn, err = p.popIdle(ctx); conn != nil || err != nil {
			return conn, conn != nil, err
		}
	}
	if probe, err = p.readmit(ctx, probe); err != nil {
		return nil, false, err
	}
	conn, u, v, err := p.dial(ctx, true)
	p.settle(ctx, probe, v, err)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	p.mu.Lock()
	p.origin[conn] = u
	p.mu.Unlock()
	return conn, false, nil
}

// admit asks the outage breaker whether the caller may go on. A caller
// whose context has already ended is refused before it can take the probe,
// which it could not use.
func (p *pool) admit(ctx context.Context) (probe bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return p.outage.admit()
}

// settle hands an attempt's verdict to the outage breaker, and logs the
// change of state if there is one: the idle connections of a directory
// that just became unreachable are suspect, and are closed.
func (p *pool) settle(ctx context.Context, probe bool, v verdict, cause error) {
	t := p.outage.settle(probe, v, cause)
	switch {
	case t.wentDown:
		p.closeIdle()
		p.logger.WarnContext(ctx, "ldap directory unreachable; refusing requests until a probe reconnects",
			"err", cause, "retry_in", t.retryIn.Round(time.Millisecond))
	case t.cameUp:
		p.logger.InfoContext(ctx, "ldap directory reachable again",
			"down_for", t.downFor.Round(time.Millisecond), "refused", t.refused)
	}
}

// closeIdle closes the idle connections.
func (p *pool) closeIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.idle {
		p.discardLocked(c.conn)
	}
	p.idle = nil
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
	p.metrics.waited()
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

// counts returns how many connections are idle and how many are in use
// (or being dialled): a slot is held while a connection is, and given
// back when it goes idle.
func (p *pool) counts() (idle, busy int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle), len(p.slots)
}

// popIdle returns an idle connection that is still open, to the preferred
// provider with Config.MultiProvider and, if it sat idle long, still
// answers; nil if there is none.
func (p *pool) popIdle(ctx context.Context) (*ldap.Conn, error) {
	for {
		c, err := p.popIdleLocked()
		if c.conn == nil || err != nil {
			return nil, err
		}
		if p.preferred(c.conn) && (time.Since(c.since) < healthAfter || p.healthy(ctx, c.conn)) {
			return c.conn, nil
		}
		p.discard(c.conn)
	}
}

// discard closes a pooled connection and forgets where it went.
func (p *pool) discard(conn *ldap.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.discardLocked(conn)
}

func (p *pool) discardLocked(conn *ldap.Conn) {
	_ = conn.Close()
	delete(p.origin, conn)
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
		p.discardLocked(c.conn)
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
	start := time.Now()
	_, err = conn.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 0, false, "(objectClass=*)", []string{"1.1"}, nil))
	p.metrics.observe(opSearch, err, start)
	return err == nil
}

// release returns conn to the idle list unless opErr shows it is broken,
// the pool is closed or the directory down (its connections are suspect),
// and frees its slot.
func (p *pool) release(conn *ldap.Conn, opErr error) {
	defer func() { <-p.slots }()
	down := p.outage.isDown()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || down || conn.IsClosing() || ldap.IsErrorWithCode(opErr, ldap.ErrorNetwork) {
		p.discardLocked(conn)
		return
	}
	p.idle = append(p.idle, idleConn{conn: conn, since: time.Now()})
}

// dial connects to the first URL that answers, servers in backoff last,
// binds as the service account if bind is set, and returns the URL with
// the connection. Each server gets what is left of the caller's time, at
// most cfg.Timeout; once the context has ended the rest are not tried. The verdict is what the attempts say about
// the directory, for the outage breaker; the error joins the attempts'
// errors, for the caller to wrap in store.ErrUnavailable.
func (p *pool) dial(ctx context.Context, bind bool) (*ldap.Conn, string, verdict, error) {
	var errs []error
	v := untried
	for _, u := range p.dialOrder() {
		budget, err := opTimeout(ctx, p.cfg.Timeout)
		if err != nil {
			errs = append(errs, err)
			break
		}
		conn, err := p.dialOne(u, bind, budget)
		streak := p.markDial(u, err)
		if err == nil {
			p.logDialSuccess(ctx, u, streak)
			return conn, u, reached, nil
		}
		v = max(v, verdictOf(ctx, err, budget))
		p.logDialFailure(ctx, u, streak, err)
		errs = append(errs, err)
	}
	return nil, "", v, errors.Join(errs...)
}

// logDialFailure warns when a server fails for the first time in a row
// while the directory is up, and whenever a server answers with a refusal
// (a wrong bind password: configuration, not an outage). Repeated failures
// and those during an outage are debug lines: a dead replica is reported
// once, and when it answers again (logDialSuccess); the breaker logs an
// outage of the whole directory once.
func (p *pool) logDialFailure(ctx context.Context, u string, failures int, err error) {
	level := slog.LevelDebug
	var le *ldap.Error
	if (failures == 1 && !p.outage.isDown()) || (errors.As(err, &le) && !isUnavailable(err)) {
		level = slog.LevelWarn
	}
	p.logger.Log(ctx, level, "ldap server unusable, trying the next", "url", u, "err", err)
}

// logDialSuccess reports a server that answers again after failed dials.
func (p *pool) logDialSuccess(ctx context.Context, u string, failures int) {
	if failures > 0 {
		p.logger.InfoContext(ctx, "ldap server usable again", "url", u, "failed_dials", failures)
	}
}

// dialOrder lists the URLs in configured order (sorted with
// Config.MultiProvider), those in backoff or fenced moved to the end
// (still tried: they may be the only ones left).
func (p *pool) dialOrder() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	urls := slices.Clone(p.cfg.URLs)
	if p.cfg.MultiProvider {
		providerOrder(urls)
	}
	avoid := func(u string) int { return boolInt(now.Before(p.down[u].until) || p.fence.fenced(u)) }
	slices.SortStableFunc(urls, func(a, b string) int { return avoid(a) - avoid(b) })
	return urls
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// markDial records a dial's outcome for dialOrder's backoff, and returns
// the server's failures in a row: with this one, or ended by this success.
func (p *pool) markDial(u string, err error) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		failures := p.down[u].failures
		delete(p.down, u)
		return failures
	}
	p.fence.shut(u)
	d := p.down[u]
	d.failures++
	d.until = time.Now().Add(min(downMax, downMin<<min(d.failures-1, 6)))
	p.down[u] = d
	return d.failures
}

// dialOne connects to one server, secures and binds within timeout, and
// counts the attempt.
func (p *pool) dialOne(rawURL string, bind bool, timeout time.Duration) (*ldap.Conn, error) {
	conn, err := p.connectOne(rawURL, bind, timeout)
	p.metrics.dialed(err)
	return conn, err
}

// connectOne connects, secures and binds within timeout as a whole: go-ldap
// times each request on its own, so each step gets what the previous ones
// left, and a slow StartTLS does not buy the bind a second timeout.
func (p *pool) connectOne(rawURL string, bind bool, timeout time.Duration) (*ldap.Conn, error) {
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
	start := time.Now()
	err := conn.Bind(p.cfg.BindDN, p.cfg.BindPassword)
	p.metrics.observe(opBind, err, start)
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
	start := time.Now()
	err = conn.StartTLS(tlsFor(p.cfg.TLS, rawURL))
	p.metrics.observe(opStartTLS, err, start)
	if err != nil {
		return fmt.Errorf("StartTLS with %s: %w", rawURL, err)
	}
	return nil
}

// close closes idle connections now and busy ones when they are released.
func (p *pool) close() error {
	p.mu.Lock()
	if !p.closed && p.stopProbe != nil {
		close(p.stopProbe)
	}
	p.closed = true
	p.mu.Unlock()
	p.closeIdle()
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
// slot, so it counts against PoolSize like any other connection, and
// passes the outage breaker like acquire. An unbound dial is only a TCP
// connect, which a frozen server's kernel still accepts, so op's outcome
// (the bind it sends) is what tells the breaker whether the directory
// answers. The verdict is settled in a deferred call: a probe that op
// panicked out of must still be handed back, or no one would probe again.
func (p *pool) fresh(ctx context.Context, op func(*ldap.Conn) error) (err error) {
	probe, err := p.admit(ctx)
	if err != nil {
		return err
	}
	if err := p.takeSlot(ctx); err != nil {
		p.settle(ctx, probe, untried, nil)
		return err
	}
	defer func() { <-p.slots }()
	if probe, err = p.readmit(ctx, probe); err != nil {
		return err
	}
	v := untried
	defer func() { p.settle(ctx, probe, v, err) }()
	v, err = p.runFresh(ctx, op)
	return err
}

// dedicated dials a connection bound as the service account that belongs
// to the caller alone, outside the pool's slots, through the outage
// breaker: for a walk over many entries, which must neither hold a slot
// the API needs nor wait for one its own callback holds.
func (p *pool) dedicated(ctx context.Context) (*ldap.Conn, error) {
	probe, err := p.admit(ctx)
	if err != nil {
		return nil, err
	}
	conn, _, v, err := p.dial(ctx, true)
	p.settle(ctx, probe, v, err)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return conn, nil
}

// runFresh dials without binding and runs op in what is left of the
// caller's time. The verdict is op's, unless the dial failed.
func (p *pool) runFresh(ctx context.Context, op func(*ldap.Conn) error) (verdict, error) {
	conn, _, v, err := p.dial(ctx, false)
	if err != nil {
		return v, fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	defer conn.Close()
	timeout, err := opTimeout(ctx, p.cfg.Timeout)
	if err != nil {
		return untried, fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	conn.SetTimeout(timeout)
	err = op(conn)
	return verdictOf(ctx, err, timeout), err
}

// readmit asks the outage breaker again after a wait for a slot, unless
// the caller already holds the probe.
func (p *pool) readmit(ctx context.Context, probe bool) (bool, error) {
	if probe {
		return true, nil
	}
	return p.admit(ctx)
}
