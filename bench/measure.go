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
	sideFloor   = "floor"
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
	// gw is the gateway process doing the work, whose CPU time is read
	// around the phase; nil for raw LDAP.
	gw *gateway
}

// sideFixtures are the clients each side works on at one concurrency, so
// no side reads or updates an entry another side has changed.
type sideFixtures struct {
	raw, api, floor *workerSets
}

// sideBags are the stocks of clients each side's delete phase consumes,
// filled by its create phase.
type sideBags struct {
	raw, api, floor bag
}

// measurement collects the samples of every (side, op, concurrency).
type measurement struct {
	samples map[string][]sample
}

func key(side, op string, c int) string { return fmt.Sprintf("%s/%s/%d", side, op, c) }

// run does every round; within a round, each concurrency; within that,
// phases alternate between raw LDAP, the floor and dcrgate (see round), so
// slow drift of the machine (other builds, page cache) hits every side
// alike.
func (e *env) run(ctx context.Context) (*measurement, error) {
	m := &measurement{samples: map[string][]sample{}}
	fixtures := map[int]*sideFixtures{}
	for round := 1; round <= e.opts.rounds; round++ {
		for _, c := range e.opts.concurrency {
			if _, ok := fixtures[c]; !ok {
				fx, err := e.makeSideFixtures(ctx, c)
				if err != nil {
					return nil, err
				}
				fixtures[c] = fx
			}
			if err := e.round(ctx, m, c, fixtures[c], round-1); err != nil {
				return nil, err
			}
			e.log.Info("round done", "round", round, "concurrency", c)
		}
	}
	return m, nil
}

// makeSideFixtures makes each measured side's fixtures for c workers.
func (e *env) makeSideFixtures(ctx context.Context, c int) (*sideFixtures, error) {
	fx := &sideFixtures{}
	sets := []**workerSets{&fx.raw, &fx.api}
	if e.opts.floor {
		sets = append(sets, &fx.floor)
	}
	for _, ws := range sets {
		var err error
		if *ws, err = e.makeFixtures(ctx, c); err != nil {
			return nil, err
		}
	}
	return fx, nil
}

// round runs one concurrency's phases once: for each kind of work, the
// raw phase, the floor's and dcrgate's back to back, in the order of
// phaseOrder. Changing it from round to round cancels what a fixed order
// would hand the same side every time, such as the disk writing back the
// phase before.
func (e *env) round(ctx context.Context, m *measurement, c int, fx *sideFixtures, turn int) error {
	var bags sideBags
	ph := phase{concurrency: c, duration: e.opts.duration, maxOps: e.opts.maxOps}
	groups := [][]step{
		{{sideLDAP, "add", e.rawAdd(&bags.raw), nil},
			{sideFloor, "register", apiRegister(e.apiFloor, &bags.floor), e.floor},
			{sideDcrgate, "register", apiRegister(e.apiRotating, &bags.api), e.rotating}},
		{{sideLDAP, "search", e.rawSearch(fx.raw), nil},
			{sideFloor, "get", apiRead(e.apiFloor, fx.floor), e.floor},
			{sideDcrgate, "get", apiRead(e.apiPlain, fx.api), e.plain}},
		{{sideLDAP, "modify", e.rawModify(fx.raw), nil},
			{sideFloor, "put", apiUpdate(e.apiFloor, fx.floor), e.floor},
			{sideDcrgate, "put", apiUpdate(e.apiRotating, fx.api), e.rotating}},
		{{sideDcrgate, "get-rotate", apiRead(e.apiRotating, fx.api), e.rotating}},
		{{sideLDAP, "delete", e.rawDelete(&bags.raw), nil},
			{sideFloor, "delete", apiDelete(e.apiFloor, &bags.floor), e.floor},
			{sideDcrgate, "delete", apiDelete(e.apiRotating, &bags.api), e.rotating}},
	}
	for _, g := range groups {
		g = slices.DeleteFunc(g, func(s step) bool { return !e.opts.measures(s) })
		if len(g) > 0 && g[0].op == "delete" {
			if err := e.stockUp(ctx, &bags, m, c); err != nil {
				return err
			}
		}
		g = phaseOrder(g, turn)
		for _, s := range g {
			if err := e.measure(ctx, m, ph, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// phaseOrder is g in the order of round turn: turned by turn places for
// len(g) rounds, then the same turns reversed for len(g) more. Over rounds
// that are a multiple of 2·len(g) (6 with the floor, 4 without), every side
// runs in every place and right after every other side equally often.
func phaseOrder(g []step, turn int) []step {
	if len(g) < 2 {
		return g
	}
	k := turn % len(g)
	out := append(slices.Clone(g[k:]), g[:k]...)
	if (turn/len(g))%2 == 1 {
		slices.Reverse(out)
	}
	return out
}

// measure runs step s's phase and keeps its sample.
func (e *env) measure(ctx context.Context, m *measurement, ph phase, s step) error {
	got := e.timed(ctx, ph, s)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stopped during %s %s at C=%d: %w", s.side, s.op, ph.concurrency, err)
	}
	if got.errors > 0 {
		e.log.Warn("operations failed", "side", s.side, "op", s.op, "concurrency", ph.concurrency, "errors", got.errors, "first", got.firstErr)
	}
	k := key(s.side, s.op, ph.concurrency)
	m.samples[k] = append(m.samples[k], got)
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
	switch s.side {
	case sideDcrgate:
		return o.ops[s.op]
	case sideFloor:
		return o.floor && o.ops[s.op]
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

// stockUp fills every delete stock, untimed, to three times what the side's
// last create phase managed, so no delete phase runs dry before its time is
// up.
func (e *env) stockUp(ctx context.Context, bags *sideBags, m *measurement, c int) error {
	last := func(side, op string) int {
		s := m.samples[key(side, op, c)]
		if len(s) == 0 {
			return int(e.opts.duration.Seconds() * assumedCreateRate)
		}
		return s[len(s)-1].ops
	}
	type stock struct {
		bag  *bag
		want int
	}
	stocks := []stock{{&bags.raw, 3 * last(sideLDAP, "add")}, {&bags.api, 3 * last(sideDcrgate, "register")}}
	if e.opts.floor {
		stocks = append(stocks, stock{&bags.floor, 3 * last(sideFloor, "register")})
	}
	for _, b := range stocks {
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

// apiRegister is POST through a, keeping the registered client in into.
func apiRegister(a *apiClient, into *bag) opFunc {
	return func(ctx context.Context, _ int) error {
		f, err := a.register(ctx, credentials.NewClientID())
		if err == nil {
			into.push(f)
		}
		return err
	}
}

// apiRead is GET through a; on the rotating gateway it is GET with rotation.
func apiRead(a *apiClient, ws *workerSets) opFunc {
	return func(ctx context.Context, w int) error { return a.read(ctx, ws.next(w)) }
}

func apiUpdate(a *apiClient, ws *workerSets) opFunc {
	return func(ctx context.Context, w int) error { return a.update(ctx, ws.next(w)) }
}

func apiDelete(a *apiClient, from *bag) opFunc {
	return func(ctx context.Context, _ int) error {
		f, err := from.pop()
		if err != nil {
			return err
		}
		return a.remove(ctx, f)
	}
}
