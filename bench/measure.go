package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/credentials"
)

// Sides of a comparison.
const (
	sideLDAP    = "ldap"
	sideDcrgate = "dcrgate"
)

// fixturesPerWorker is how many clients each worker cycles through for
// reads and updates.
const fixturesPerWorker = 4

// minStock is the least number of entries a delete phase starts with.
const minStock = 500

// workerSets are the fixtures of each worker at one concurrency.
type workerSets struct {
	sets  [][]*fixture
	calls []int
}

// next returns worker w's next fixture, round robin. Only worker w touches
// index w, and phases never overlap, so no lock is needed.
func (ws *workerSets) next(w int) *fixture {
	ws.calls[w]++
	set := ws.sets[w]
	return set[ws.calls[w]%len(set)]
}

// step is one phase of a round: an operation on one side.
type step struct {
	side, op string
	fn       opFunc
	// gw is the dcrgate process doing the work, whose CPU time is read
	// around the phase; nil for raw LDAP.
	gw *gateway
}

// measurement collects the samples of every (side, op, concurrency).
type measurement struct {
	samples map[string][]sample
}

func key(side, op string, c int) string { return fmt.Sprintf("%s/%s/%d", side, op, c) }

// run does every round; within a round, each concurrency; within that,
// phases alternate between raw LDAP and dcrgate, so slow drift of the
// machine (other builds, page cache) hits both sides alike.
func (e *env) run(ctx context.Context) (*measurement, error) {
	m := &measurement{samples: map[string][]sample{}}
	fixtures := map[int][2]*workerSets{}
	for round := 1; round <= e.opts.rounds; round++ {
		for _, c := range e.opts.concurrency {
			if _, ok := fixtures[c]; !ok {
				raw, err := e.makeFixtures(ctx, c)
				if err != nil {
					return nil, err
				}
				api, err := e.makeFixtures(ctx, c)
				if err != nil {
					return nil, err
				}
				fixtures[c] = [2]*workerSets{raw, api}
			}
			if err := e.round(ctx, m, c, fixtures[c][0], fixtures[c][1]); err != nil {
				return nil, err
			}
			e.log.Info("round done", "round", round, "concurrency", c)
		}
	}
	return m, nil
}

// round runs one concurrency's phases once.
func (e *env) round(ctx context.Context, m *measurement, c int, raw, api *workerSets) error {
	var rawBag, apiBag bag
	ph := phase{concurrency: c, duration: e.opts.duration, maxOps: e.opts.maxOps}
	steps := []step{
		{sideLDAP, "add", e.rawAdd(&rawBag), nil}, {sideDcrgate, "register", e.apiRegister(&apiBag), e.rotating},
		{sideLDAP, "search", e.rawSearch(raw), nil}, {sideDcrgate, "get", e.apiRead(e.apiPlain, api), e.plain},
		{sideLDAP, "modify", e.rawModify(raw), nil}, {sideDcrgate, "put", e.apiUpdate(api), e.rotating},
		{sideDcrgate, "get-rotate", e.apiRead(e.apiRotating, api), e.rotating},
		{sideLDAP, "delete", e.rawDelete(&rawBag), nil}, {sideDcrgate, "delete", e.apiDelete(&apiBag), e.rotating},
	}
	for _, s := range steps {
		if !e.opts.measures(s) {
			continue
		}
		if s.op == "delete" && s.side == sideLDAP {
			if err := e.stockUp(ctx, &rawBag, &apiBag, m, c); err != nil {
				return err
			}
		}
		got := e.timed(ctx, ph, s)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stopped during %s %s at C=%d: %w", s.side, s.op, c, err)
		}
		if got.errors > 0 {
			e.log.Warn("operations failed", "side", s.side, "op", s.op, "concurrency", c, "errors", got.errors, "first", got.firstErr)
		}
		k := key(s.side, s.op, c)
		m.samples[k] = append(m.samples[k], got)
	}
	return nil
}

// baselineOf names, for each raw operation, the API operations compared
// with it (GET with rotation with a search and a modify in sequence).
var baselineOf = map[string][]string{
	"add": {"register"}, "search": {"get", "get-rotate"}, "modify": {"put", "get-rotate"}, "delete": {"delete"},
}

// measures reports whether the run includes step s: a selected API
// operation, or raw work a selected one is compared with.
func (o options) measures(s step) bool {
	if s.side == sideDcrgate {
		return o.ops[s.op]
	}
	return slices.ContainsFunc(baselineOf[s.op], func(op string) bool { return o.ops[op] })
}

// timed runs one step's phase, with the CPU time of dcrgate, slapd and the
// tool itself read around it.
func (e *env) timed(ctx context.Context, ph phase, s step) sample {
	before := e.readCPU(s.gw)
	got := ph.run(ctx, s.fn)
	got.cpu = e.readCPU(s.gw).minus(before)
	return got
}

// assumedCreateRate stands in for the create rate of a run that measures no
// create phase (--ops without register); stocking three times that, 3,000
// per second of phase, outlasts a small machine's deletes.
const assumedCreateRate = 1000

// stockUp fills both delete stocks, untimed, to three times what the last create
// phase managed, so neither delete phase runs dry before its time is up.
func (e *env) stockUp(ctx context.Context, rawBag, apiBag *bag, m *measurement, c int) error {
	last := func(side, op string) int {
		s := m.samples[key(side, op, c)]
		if len(s) == 0 {
			return int(e.opts.duration.Seconds() * assumedCreateRate)
		}
		return s[len(s)-1].ops
	}
	for _, b := range []struct {
		bag  *bag
		want int
	}{{rawBag, 3 * last(sideLDAP, "add")}, {apiBag, 3 * last(sideDcrgate, "register")}} {
		want := min(max(b.want, minStock), e.opts.maxOps)
		if n := want - b.bag.len(); n > 0 {
			if _, err := e.addClones(ctx, n, b.bag); err != nil {
				return err
			}
		}
	}
	return nil
}

// addClones adds n template clones with raw LDAP as fast as the pool allows,
// pushing each onto into (nil keeps none). It returns how long that took.
func (e *env) addClones(ctx context.Context, n int, into *bag) (time.Duration, error) {
	ph := phase{concurrency: 2 * e.opts.poolSize, duration: e.opts.maxTime, maxOps: n}
	got := ph.run(ctx, e.rawAdd(into))
	if got.errors > 0 {
		return got.elapsed, fmt.Errorf("adding %d entries: %d failed, first: %w", n, got.errors, got.firstErr)
	}
	return got.elapsed, ctx.Err()
}

// makeFixtures adds fixturesPerWorker clients for each of c workers.
func (e *env) makeFixtures(ctx context.Context, c int) (*workerSets, error) {
	var made bag
	if _, err := e.addClones(ctx, c*fixturesPerWorker, &made); err != nil {
		return nil, err
	}
	ws := &workerSets{sets: make([][]*fixture, c), calls: make([]int, c)}
	for w := range ws.sets {
		for range fixturesPerWorker {
			f, err := made.pop()
			if err != nil {
				return nil, errors.New("fewer fixtures than asked for")
			}
			ws.sets[w] = append(ws.sets[w], &f)
		}
	}
	return ws, nil
}

// rawAdd adds a template clone and pushes it onto into (nil keeps none).
func (e *env) rawAdd(into *bag) opFunc {
	return func(context.Context, int) error {
		f := newFixture()
		err := e.raw.do(func(c *ldap.Conn) error { return c.Add(e.tpl.addRequest(f)) })
		if err == nil {
			into.push(f)
		}
		return err
	}
}

func (e *env) rawSearch(ws *workerSets) opFunc {
	return func(_ context.Context, w int) error {
		f := ws.next(w)
		return e.raw.do(func(c *ldap.Conn) error {
			res, err := c.Search(e.tpl.searchRequest(f.id))
			if err == nil && len(res.Entries) != 1 {
				err = fmt.Errorf("search %s: %d entries", f.id, len(res.Entries))
			}
			return err
		})
	}
}

// rawModify applies the rotating-update Modify; the fixture only moves on
// when the directory accepted it, so a failure cannot desynchronise it.
func (e *env) rawModify(ws *workerSets) opFunc {
	return func(_ context.Context, w int) error {
		f := ws.next(w)
		hash, err := e.hasher.Hash(credentials.NewSecret())
		if err != nil {
			return err
		}
		next := *f
		req := e.tpl.modifyRequest(&next, hash)
		if err := e.raw.do(func(c *ldap.Conn) error { return c.Modify(req) }); err != nil {
			return err
		}
		*f = next
		return nil
	}
}

func (e *env) rawDelete(from *bag) opFunc {
	return func(context.Context, int) error {
		f, err := from.pop()
		if err != nil {
			return err
		}
		return e.raw.do(func(c *ldap.Conn) error { return c.Del(ldap.NewDelRequest(e.tpl.dn(f.id), nil)) })
	}
}

func (e *env) apiRegister(into *bag) opFunc {
	return func(ctx context.Context, _ int) error {
		f, err := e.apiRotating.register(ctx, credentials.NewClientID())
		if err == nil {
			into.push(f)
		}
		return err
	}
}

// apiRead is GET through a; on the rotating gateway it is GET with rotation.
func (e *env) apiRead(a *apiClient, ws *workerSets) opFunc {
	return func(ctx context.Context, w int) error { return a.read(ctx, ws.next(w)) }
}

func (e *env) apiUpdate(ws *workerSets) opFunc {
	return func(ctx context.Context, w int) error { return e.apiRotating.update(ctx, ws.next(w)) }
}

func (e *env) apiDelete(from *bag) opFunc {
	return func(ctx context.Context, _ int) error {
		f, err := from.pop()
		if err != nil {
			return err
		}
		return e.apiRotating.remove(ctx, f)
	}
}
