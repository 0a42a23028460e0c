package ldapstore

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/schema"
	"github.com/dcrgate/dcrgate/store"
)

// maxAttempts bounds the compare-and-swap loop of Update before it gives up
// with store.ErrConflict.
const maxAttempts = 5

// Store is the LDAP backend of store.Store.
type Store struct {
	cfg     Config
	layout  layout
	pool    *pool
	logger  *slog.Logger
	metrics *opMetrics
	// assertion and postRead record whether the server lists the Assertion
	// (RFC 4528) and Post-Read (RFC 4527) controls; assertion is switched off
	// if a server (after failover, say) refuses it after all.
	assertion atomic.Bool
	postRead  atomic.Bool
	// increment records Modify-Increment (RFC 4525) in supportedFeatures.
	increment atomic.Bool
	// known remembers the entries this process wrote, for updates without
	// a read or a Post-Read (updateKnown).
	known *knownWrites
	// connected is set once the directory answered and its root DSE was
	// read; stop ends connectLater, when the store started unconnected.
	connected atomic.Bool
	stop      chan struct{}
	stopOnce  sync.Once
}

var (
	_ store.Store        = (*Store)(nil)
	_ store.TokenDeleter = (*Store)(nil)
)

// New checks cfg and connects once, so a wrong URL, bind DN or password
// fails at start-up rather than on the first request, and reads the root
// DSE to learn which controls the server offers.
func New(ctx context.Context, cfg Config, logger *slog.Logger) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.TLS != nil && cfg.TLS.InsecureSkipVerify {
		logger.Warn("LDAP TLS CERTIFICATE VERIFICATION IS OFF (ldap.insecure_skip_verify): anyone on the path can read client secrets and the bind password; use ldap.ca_file instead")
	}
	metrics, err := newOpMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	l := layouts[cfg.Layout]
	if cfg.LastBindAttribute != "" {
		l.lastBind = cfg.LastBindAttribute
	}
	s := &Store{cfg: cfg, layout: l, pool: newPool(cfg, logger, metrics), logger: logger, metrics: metrics, known: newKnownWrites()}
	if err := metrics.watchPool(s.pool); err != nil {
		return nil, err
	}
	err = s.connect(ctx)
	switch {
	case err == nil:
		return s, nil
	case cfg.StartUnreachable && errors.Is(err, store.ErrUnavailable):
		logger.Warn("ldap directory unreachable at start; serving 503 and retrying until it answers", "err", err)
		s.stop = make(chan struct{})
		go s.connectLater()
		return s, nil
	}
	_ = s.Close()
	return nil, err
}

// connect proves the directory answers, the bind works and the base DN
// exists, and learns which controls the server offers.
func (s *Store) connect(ctx context.Context) error {
	if err := s.ping(ctx); err != nil {
		return err
	}
	if err := s.readRootDSE(ctx); err != nil {
		return err
	}
	if !s.connected.Swap(true) && s.stop != nil {
		s.logger.Info("ldap directory reachable; ready")
	}
	return nil
}

// Retry bounds of connectLater.
const (
	connectRetryMin = 500 * time.Millisecond
	connectRetryMax = 30 * time.Second
)

// connectLater keeps trying to connect a store that started while the
// directory was unreachable, backing off, until it succeeds or the store is
// closed. Meanwhile the pool's outage breaker answers requests with 503 and
// readiness is false; a request that reaches the directory before the root
// DSE is read uses the portable revision compare-and-swap, which every
// directory supports.
func (s *Store) connectLater() {
	wait := connectRetryMin
	for {
		select {
		case <-s.stop:
			return
		case <-time.After(wait):
		}
		if s.connected.Load() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
		err := s.connect(ctx)
		cancel()
		switch {
		case err == nil:
			return
		case !errors.Is(err, store.ErrUnavailable):
			s.logger.Error("ldap directory answers but refuses dcrgate; fix the configuration (ldap.bind_dn, password, base_dn)", "err", err)
		}
		wait = min(2*wait, connectRetryMax)
	}
}

// readRootDSE learns the supported controls and features (RFC 4512 §5.1).
// A server that hides its root DSE gets the portable revision
// compare-and-swap.
func (s *Store) readRootDSE(ctx context.Context) error {
	req := ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=*)", []string{"supportedControl", "supportedFeatures"}, nil)
	var res *ldap.SearchResult
	err := s.pool.do(ctx, opSearch, func(conn *ldap.Conn) (err error) {
		res, err = conn.Search(req)
		return err
	})
	if errors.Is(err, store.ErrUnavailable) {
		return fmt.Errorf("ldapstore: read root DSE: %w", err)
	}
	var controls, features []string
	if err == nil && len(res.Entries) == 1 {
		controls = res.Entries[0].GetEqualFoldAttributeValues("supportedControl")
		features = res.Entries[0].GetEqualFoldAttributeValues("supportedFeatures")
	}
	s.assertion.Store(slices.Contains(controls, OIDAssertion))
	s.postRead.Store(slices.Contains(controls, OIDPostRead))
	s.increment.Store(slices.Contains(features, OIDModifyIncrement))
	s.logger.InfoContext(ctx, "ldap directory controls", "assertion", s.assertion.Load(),
		"post_read", s.postRead.Load(), "modify_increment", s.increment.Load())
	return nil
}

// SecretScheme is the scheme in which callers must hash secrets, e.g.
// "{SSHA512}".
func (s *Store) SecretScheme() string { return s.cfg.SecretScheme }

// Create implements store.Store: one Add, whose entryAlreadyExists (68) is
// the collision signal.
func (s *Store) Create(ctx context.Context, r client.Record) error {
	if !s.layout.validID(r.ID) {
		return ErrInvalidID
	}
	r.Revision = 1
	a, err := s.encode(r)
	if err != nil {
		return err
	}
	w, err := s.wire(a)
	if err != nil {
		return err
	}
	req := ldap.NewAddRequest(s.dn(r.ID), nil)
	req.Attribute("objectClass", objectClasses)
	if s.layout.rdn != schema.AttrClientID {
		req.Attribute(s.layout.rdn, []string{r.ID})
	}
	for _, name := range managedAttrs {
		if len(w[name]) > 0 {
			req.Attribute(s.layout.attr(name), w[name])
		}
	}
	err = s.pool.do(ctx, opAdd, func(conn *ldap.Conn) error { return conn.Add(req) })
	if _, applied, unknown := s.appliedEarlier(ctx, err, r.ID, creationWitness(r, a)); applied {
		err = nil
	} else if unknown != nil {
		return unknown
	}
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultEntryAlreadyExists):
		return store.ErrAlreadyExists
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return fmt.Errorf("ldapstore: base DN %q does not exist: %w", s.cfg.BaseDN, err)
	case err == nil:
		s.known.created(asWritten(r), a)
	}
	return s.writeError("create", r.ID, err)
}

// encode maps r to its entry as this store keeps it. A directory that
// hashes secrets itself (SchemeServerHashing) keeps a disabled client's
// secrets in userPassword: dcrgate could not put the hashes it made back
// there (389-DS hashes such a value again), so there the authorization
// server must refuse disabled clients itself (docs/directories.md).
func (s *Store) encode(r client.Record) (attrs, error) {
	return encodeFor(r, s.cfg.SecretScheme != credentials.SchemeServerHashing)
}

// wire is the entry as sent: with SchemeServerHashing, the marked clear
// secrets lose their marker so that the directory hashes them on write.
// With any other scheme a marked value is refused: it would be stored in
// clear.
func (s *Store) wire(a attrs) (attrs, error) {
	passwords := a[schema.AttrUserPassword]
	if !slices.ContainsFunc(passwords, isClear) {
		return a, nil
	}
	if s.cfg.SecretScheme != credentials.SchemeServerHashing {
		return nil, fmt.Errorf("%w: a clear-text secret with secret scheme %s", ErrInvalidRecord, s.cfg.SecretScheme)
	}
	w := maps.Clone(a)
	w[schema.AttrUserPassword] = nil
	for _, v := range passwords {
		w[schema.AttrUserPassword] = append(w[schema.AttrUserPassword], strings.TrimPrefix(v, credentials.ClearPrefix))
	}
	return w, nil
}

func isClear(v string) bool { return strings.HasPrefix(v, credentials.ClearPrefix) }

// dn is the entry's DN in the store's layout; id must already be valid.
func (s *Store) dn(id string) string { return s.layout.dn(id, s.cfg.BaseDN) }

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, id string) (client.Record, error) {
	r, _, err := s.read(ctx, id, decodedAttrs)
	return r, err
}

// entryAttrNames are all the attributes of an entry as the store keeps
// it: what decode reads and the searchable copies, which it does not, but
// which an update must diff against to send only what changes and to know
// the entry afterwards (knownWrites).
var entryAttrNames = slices.Concat(decodedAttrs, searchableCopies)

// read returns the record and the attributes it was decoded from; names
// are the attributes to fetch: decodedAttrs to decode the record, or
// entryAttrNames to know the whole entry.
func (s *Store) read(ctx context.Context, id string, names []string) (client.Record, attrs, error) {
	if !s.layout.validID(id) {
		return client.Record{}, nil, fmt.Errorf("%w: %w", store.ErrNotFound, ErrInvalidID)
	}
	req := ldap.NewSearchRequest(s.dn(id), ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 0, false, "(objectClass="+schema.ClassClient+")", s.layout.attrs(names), nil)
	var res *ldap.SearchResult
	err := s.pool.do(ctx, opSearch, func(conn *ldap.Conn) (err error) {
		res, err = conn.Search(req)
		return err
	})
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return client.Record{}, nil, store.ErrNotFound
	case err != nil:
		return client.Record{}, nil, fmt.Errorf("ldapstore: read %s: %w", id, err)
	case len(res.Entries) == 0:
		return client.Record{}, nil, store.ErrNotFound
	}
	return s.decodeEntry(res.Entries[0])
}

func (s *Store) decodeEntry(e *ldap.Entry) (client.Record, attrs, error) {
	a := s.layout.entryAttrs(e)
	r, err := decode(a)
	if err != nil {
		return client.Record{}, nil, fmt.Errorf("ldapstore: entry %s is corrupt: %w", e.DN, err)
	}
	return r, a, nil
}

// Update implements store.Store. An entry this process wrote last is
// updated from memory in one guarded Modify (updateKnown); otherwise it is
// a read, then one Modify guarded by the revision that was read. With the
// Assertion control the guard is (dcrRevision=N) (two round trips in all);
// without it the Modify deletes value N and adds N+1, which fails with
// noSuchAttribute (16) if another writer got in first. Either way a lost
// race voids the whole Modify and fn runs again on a fresh read.
func (s *Store) Update(ctx context.Context, id string, fn func(client.Record) (client.Record, error)) (client.Record, error) {
	if r, err := s.updateKnown(ctx, id, fn); !errors.Is(err, errUnknownState) {
		return r, err
	}
	var written client.Record
	err := s.retry(ctx, func() (err error) {
		written, err = s.tryUpdate(ctx, id, fn)
		return err
	})
	return written, err
}

// retry runs attempt until it does not lose a race, at most maxAttempts
// times, then gives up with store.ErrConflict.
func (s *Store) retry(ctx context.Context, attempt func() error) error {
	for n := range maxAttempts {
		err := attempt()
		if !errors.Is(err, errLostRace) {
			return err
		}
		if err := backoff(ctx, n); err != nil {
			return err
		}
	}
	return store.ErrConflict
}

// errLostRace is one lost compare-and-swap round, retried by Update.
var errLostRace = errors.New("ldapstore: revision changed")

func (s *Store) tryUpdate(ctx context.Context, id string, fn func(client.Record) (client.Record, error)) (client.Record, error) {
	cur, stored, err := s.read(ctx, id, entryAttrNames)
	if err != nil {
		return client.Record{}, err
	}
	next, err := fn(cur)
	if err != nil {
		return client.Record{}, err
	}
	next.ID, next.Revision = id, cur.Revision+1
	a, err := s.encode(next)
	if err != nil {
		return client.Record{}, err
	}
	w, err := s.wire(a)
	if err != nil {
		return client.Record{}, err
	}
	req, err := s.guardedModify(id, stored[schema.AttrRevision], next.Revision, serverHashes(a))
	if err != nil {
		return client.Record{}, err
	}
	s.layout.changes(req, stored, w)
	var res *ldap.ModifyResult
	err = s.pool.do(ctx, opModify, func(conn *ldap.Conn) (err error) {
		res, err = conn.ModifyWithResult(req)
		return err
	})
	if r, applied, unknown := s.appliedEarlier(ctx, err, id, rotationWitness(cur.RegistrationTokenHash, next.RegistrationTokenHash)); applied || unknown != nil {
		s.known.forget(id)
		return r, unknown
	}
	if err := s.guardError("update", id, err, ldap.IsErrorWithCode(err, ldap.LDAPResultAttributeOrValueExists) && len(stored[schema.AttrRevision]) == 0); err != nil {
		return client.Record{}, err
	}
	// Every attribute that differed from the entry as read was replaced,
	// and the revision guard held: the entry is now exactly a, unless the
	// directory hashed secrets itself (then remember forgets it).
	written, err := s.written(res, next)
	if err == nil {
		s.known.remember(written, a)
	}
	return written, err
}

// appliedEarlier finds out, after a write whose answer may have been lost
// (errMaybeApplied), whether the directory applied it: then the entry holds
// what only that write put there (see witness), and the write succeeded
// whatever its resend answered. It returns the entry as stored. Without
// this, a client whose rotation went through would be told its token is
// wrong and be locked out of its registration, and a registration would be
// made again under a new ID, orphaning the first. A write without a witness
// (an update that keeps the token) is not checked: sending it again is
// harmless. An entry that cannot be read leaves the outcome unknown:
// store.ErrUnavailable when the directory is, else the read's own error.
func (s *Store) appliedEarlier(ctx context.Context, err error, id string, wrote witness) (r client.Record, applied bool, unknown error) {
	if wrote == nil || !errors.Is(err, errMaybeApplied) {
		return client.Record{}, false, nil
	}
	r, stored, readErr := s.read(ctx, id, decodedAttrs)
	switch {
	case errors.Is(readErr, store.ErrNotFound):
		return client.Record{}, false, nil
	case errors.Is(readErr, store.ErrUnavailable):
		return client.Record{}, false, fmt.Errorf("%w: outcome of a write to %s unknown: %w", store.ErrUnavailable, id, readErr)
	case readErr != nil:
		return client.Record{}, false, readErr
	case !wrote(r, stored):
		return client.Record{}, false, nil
	}
	s.logger.InfoContext(ctx, "ldap write was applied before its answer was lost; answering its success", "client_id", id)
	return r, true, nil
}

// witness reports whether an entry, decoded (r) and as stored (a), holds
// what only one write put there, compared as values, not as the bytes a
// directory returns them in.
type witness func(r client.Record, a attrs) bool

// rotationWitness is the witness of a write that replaces the token hash
// old with next: next, if it is a new one (nil otherwise).
func rotationWitness(old, next string) witness {
	if next == "" || next == old {
		return nil
	}
	return func(r client.Record, _ attrs) bool { return sameSecret(r.RegistrationTokenHash, next) }
}

// creationWitness is the witness of the Add of sent, encoded as a: its token
// hash, issue time and metadata, and its secret hashes when the directory
// keeps them as sent.
func creationWitness(sent client.Record, a attrs) witness {
	want := asWritten(sent)
	hashesKept := !serverHashes(a)
	return func(r client.Record, stored attrs) bool {
		return sameSecret(r.RegistrationTokenHash, want.RegistrationTokenHash) &&
			r.IssuedAt.Equal(want.IssuedAt) &&
			slices.Equal(stored[schema.AttrMetadata], a[schema.AttrMetadata]) &&
			(!hashesKept || slices.EqualFunc(r.Secrets, want.Secrets, func(x, y client.SecretHash) bool {
				return sameSecret(x.Hash, y.Hash)
			}))
	}
}

// sameSecret compares two hashes in constant time.
func sameSecret(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// serverHashes reports whether the directory will change what is sent:
// clear secrets it hashes on write (SchemeServerHashing).
func serverHashes(sent attrs) bool {
	return slices.ContainsFunc(sent[schema.AttrUserPassword], isClear)
}

// guardedModify starts the Modify that bumps the revision from old (the
// values read; none for an entry written by hand) to next, guarded by the
// Assertion control when the server has it, asking for the entry as
// written (Post-Read) only if readBack, when the directory changes what is
// sent.
func (s *Store) guardedModify(id string, old []string, next uint64, readBack bool) (*ldap.ModifyRequest, error) {
	nextValue := []string{strconv.FormatUint(next, 10)}
	if !s.assertion.Load() {
		req := ldap.NewModifyRequest(s.dn(id), nil)
		if len(old) > 0 {
			req.Delete(schema.AttrRevision, old)
		}
		req.Add(schema.AttrRevision, nextValue)
		return req, nil
	}
	assert, err := newAssertionControl(revisionFilter(old))
	if err != nil {
		return nil, err
	}
	controls := []ldap.Control{assert}
	if readBack && s.postRead.Load() {
		controls = append(controls, &postReadControl{attributes: s.layout.attrs(decodedAttrs)})
	}
	req := ldap.NewModifyRequest(s.dn(id), controls)
	req.Replace(schema.AttrRevision, nextValue)
	return req, nil
}

// revisionFilter matches the entry only while it still has the revision
// values that were read.
func revisionFilter(values []string) string {
	if len(values) == 0 {
		return "(!(" + schema.AttrRevision + "=*))"
	}
	f := ""
	for _, v := range values {
		f += "(" + schema.AttrRevision + "=" + ldap.EscapeFilter(v) + ")"
	}
	return "(&" + f + ")"
}

// guardError classifies the result of a guarded write. A failed guard
// (assertionFailed, noSuchAttribute, or lost, which the caller knows) is
// errLostRace; a server that turns out not to support the Assertion
// control after all (unavailableCriticalExtension, e.g. a replica of
// another make after failover) switches the store to the revision
// compare-and-swap and the write is retried that way.
func (s *Store) guardError(op, id string, err error, lost bool) error {
	switch {
	case err == nil:
		return nil
	case lost, ldap.IsErrorWithCode(err, ldap.LDAPResultAssertionFailed),
		ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchAttribute):
		return errLostRace
	case ldap.IsErrorWithCode(err, ldap.LDAPResultUnavailableCriticalExtension) && s.assertion.Load():
		s.logger.Warn("ldap server refused the assertion control; using revision compare-and-swap", "err", err)
		s.assertion.Store(false)
		return errLostRace
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return store.ErrNotFound
	}
	return s.writeError(op, id, err)
}

// written is the record as a later Get will see it: the Post-Read entry
// when the server sent one (requested only with SchemeServerHashing, for
// the hashes the directory made), else the record that was sent, with no
// second encode/decode.
func (s *Store) written(res *ldap.ModifyResult, next client.Record) (client.Record, error) {
	if res != nil {
		e, err := postReadEntry(res.Controls)
		if err != nil {
			s.logger.Warn("ldap post-read entry unreadable; answering with the record as written", "err", err)
		} else if e != nil {
			r, a, err := s.decodeEntry(e)
			if err == nil {
				s.checkHashed(a)
			}
			return r, err
		}
	}
	return asWritten(next), nil
}

// asWritten is r as decode reads it back: GeneralizedTime keeps UTC
// seconds.
func asWritten(r client.Record) client.Record {
	for _, t := range []*time.Time{&r.IssuedAt, &r.SecretExpiresAt, &r.ExpiresAt} {
		*t = storedTime(*t)
	}
	r.Secrets = slices.Clone(r.Secrets)
	for i := range r.Secrets {
		r.Secrets[i].ExpiresAt = storedTime(r.Secrets[i].ExpiresAt)
	}
	return r
}

func storedTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Second)
}

// checkHashed says loudly when the directory kept a secret in clear, which
// happens with SchemeServerHashing on a directory not set up to hash on
// write.
func (s *Store) checkHashed(a attrs) {
	for _, v := range a[schema.AttrUserPassword] {
		if !secretScheme.MatchString(v) {
			s.logger.Error("THE DIRECTORY STORED A CLIENT SECRET IN CLEAR: configure it to hash userPassword on write, or use another ldap.secret_scheme")
			return
		}
	}
}

// backoff sleeps a random, growing moment so that racing writers spread out
// instead of colliding again in lockstep.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(rand.Int64N(int64(2*time.Millisecond) << attempt))
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// Delete implements store.Store: read, check cond, delete. With the
// Assertion control the Delete asserts the revision cond saw, so a write in
// between (a token rotation, say) makes it fail and cond runs again on the
// new record; without it a concurrent write in that window goes unseen.
func (s *Store) Delete(ctx context.Context, id string, cond func(client.Record) error) error {
	return s.retry(ctx, func() error {
		cur, stored, err := s.read(ctx, id, decodedAttrs)
		if err != nil {
			return err
		}
		if cond != nil {
			if err := cond(cur); err != nil {
				return err
			}
		}
		return s.deleteIf(ctx, id, func() (*assertionControl, error) {
			return newAssertionControl(revisionFilter(stored[schema.AttrRevision]))
		})
	})
}

// errMismatch is store.ErrTokenMismatch as the guarded writes return it:
// to the caller there is no such client for that token (RFC 7592 §2: no
// oracle for which client IDs exist).
var errMismatch = fmt.Errorf("%w: %w", store.ErrNotFound, store.ErrTokenMismatch)

// DeleteIfManageable implements store.TokenDeleter (RFC 7592 §2.3): with
// the Assertion control one Delete asserting manageableFilter, so no
// rotation can slip in between check and delete; without it, Delete with
// client.Record.Manageable as its condition. The server's equality match
// compares hashes, which tells a timing attacker nothing about the token.
// The owner returned is the one this process remembers writing, or read
// for the condition; the one Delete reads nothing.
func (s *Store) DeleteIfManageable(ctx context.Context, id, tokenHash string, now time.Time) (client.Owner, error) {
	if tokenHash == "" {
		return client.Owner{}, errMismatch
	}
	if !s.layout.validID(id) {
		return client.Owner{}, fmt.Errorf("%w: %w", store.ErrNotFound, ErrInvalidID)
	}
	var owner client.Owner
	if k, ok := s.known.get(id); ok {
		owner = k.record.Owner
	}
	if !s.assertion.Load() {
		err := s.Delete(ctx, id, func(r client.Record) error {
			owner = r.Owner
			if !r.Manageable(tokenHash, now) {
				return errMismatch
			}
			return nil
		})
		return owner, err
	}
	err := s.deleteIf(ctx, id, func() (*assertionControl, error) {
		return newAssertionControl(manageableFilter(tokenHash, now))
	})
	if errors.Is(err, errLostRace) {
		return client.Owner{}, errMismatch
	}
	return owner, err
}

// manageableFilter is client.Record.Manageable as an LDAP filter: the
// token is the current one, or the previous one before its expiry; the
// entry is not disabled and not past its own expiry. Times are stored to
// the second, so "after now" is "at or after the next second".
func manageableFilter(tokenHash string, now time.Time) string {
	later := now.UTC().Truncate(time.Second).Add(time.Second).Format(timeLayout)
	h := ldap.EscapeFilter(tokenHash)
	return "(&(|(" + schema.AttrRegistrationTokenHash + "=" + h + ")" +
		"(&(" + schema.AttrPreviousTokenHash + "=" + h + ")(" + schema.AttrPreviousTokenExpiresAt + ">=" + later + ")))" +
		"(!(" + schema.AttrDisabled + "=TRUE))" +
		"(|(!(" + schema.AttrExpiresAt + "=*))(" + schema.AttrExpiresAt + ">=" + later + ")))"
}

// deleteIf sends one Delete, with guard's assertion when the server
// supports the control.
func (s *Store) deleteIf(ctx context.Context, id string, guard func() (*assertionControl, error)) (err error) {
	defer func() {
		// A refused Delete (a wrong token) leaves the entry, and what this
		// process knows of it, as they were. A stale memory of a deleted
		// entry (a PUT finishing meanwhile) only costs a failed guard.
		if err == nil || !errors.Is(err, errLostRace) {
			s.known.forget(id)
		}
	}()
	var controls []ldap.Control
	if s.assertion.Load() {
		assert, err := guard()
		if err != nil {
			return err
		}
		controls = append(controls, assert)
	}
	req := ldap.NewDelRequest(s.dn(id), controls)
	err = s.pool.do(ctx, opDelete, func(conn *ldap.Conn) error { return conn.Del(req) })
	if s.goneAfterLoss(ctx, id, err) {
		return nil
	}
	return s.guardError("delete", id, err, false)
}

// goneAfterLoss reports whether, after a Delete whose answer may have been
// lost (errMaybeApplied), the entry is gone: by that Delete, as a rule, so
// it succeeded. That a deleted client then answers 204 where it would
// answer 401 to a wrong token only says what is true for everyone: the
// client no longer exists.
func (s *Store) goneAfterLoss(ctx context.Context, id string, err error) bool {
	switch {
	case !errors.Is(err, errMaybeApplied):
		return false
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return true
	case errors.Is(err, store.ErrUnavailable):
		_, _, readErr := s.read(ctx, id, decodedAttrs)
		return errors.Is(readErr, store.ErrNotFound)
	}
	return false
}

// VerifySecret reports whether secret is accepted for the client by a bind
// as its entry on a fresh connection (RFC 4513 §5.1.3), the only check
// possible with SchemeServerHashing, where only the directory knows how it
// hashed the secret. Note that a bind accepts retained secrets too. The
// pooled connections stay bound as the service account. In a layout whose
// directory does not verify the entry on bind (AD) the stored hashes are
// compared instead, as the AS does there.
func (s *Store) VerifySecret(ctx context.Context, id, secret string) (bool, error) {
	if !s.layout.validID(id) || secret == "" {
		return false, nil
	}
	if !s.layout.bindVerifies {
		return s.compareSecret(ctx, id, secret)
	}
	err := s.pool.fresh(ctx, func(conn *ldap.Conn) error {
		start := time.Now()
		err := conn.Bind(s.dn(id), secret)
		s.metrics.observe(opBind, err, start)
		return err
	})
	switch {
	case err == nil:
		return true, nil
	case ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials):
		return false, nil
	case isUnavailable(err):
		return false, fmt.Errorf("%w: verify secret: %w", store.ErrUnavailable, err)
	}
	return false, fmt.Errorf("ldapstore: verify secret of %s: %w", id, err)
}

// compareSecret checks secret against the client's current and
// not-yet-expired retained hashes, each in its own scheme.
func (s *Store) compareSecret(ctx context.Context, id, secret string) (bool, error) {
	r, err := s.Get(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	now := time.Now()
	for _, sh := range r.Secrets {
		if !sh.ExpiresAt.IsZero() && !sh.ExpiresAt.After(now) {
			continue
		}
		scheme, _, _ := strings.Cut(sh.Hash, "}")
		if h, err := credentials.NewHasher(scheme + "}"); err == nil {
			if ok, _ := h.Verify(secret, sh.Hash); ok {
				return true, nil
			}
		}
	}
	return false, nil
}

// filter is store.Query.Matches as an LDAP filter, every value escaped.
// "Before t" is written (!(attr>=t)), which an entry without the attribute
// also matches, as Matches counts a zero time as never. The bind terms
// need the directory's last-bind record; a directory without one gets a
// term nothing matches, so such a rule selects nothing rather than
// everything.
func (l layout) filter(q store.Query) string {
	f := "(objectClass=" + schema.ClassClient + ")"
	for _, eq := range [][2]string{{schema.AttrOwnerIssuer, q.OwnerIssuer}, {schema.AttrOwnerSubject, q.OwnerSubject},
		{schema.AttrOwnerTokenID, q.OwnerTokenID}} {
		if eq[1] != "" {
			f += "(" + eq[0] + "=" + ldap.EscapeFilter(eq[1]) + ")"
		}
	}
	if q.NameContains != "" {
		f += "(" + schema.AttrClientName + "=*" + ldap.EscapeFilter(q.NameContains) + "*)"
	}
	f += atOrAfter(schema.AttrIssuedAt, q.CreatedAfter) + notAtOrAfter(schema.AttrIssuedAt, q.CreatedBefore)
	f += atOrBefore(schema.AttrExpiresAt, q.ExpiredAt) + atOrBefore(schema.AttrSecretExpiresAt, q.SecretExpiredAt)
	if q.Disabled {
		f += "(" + schema.AttrDisabled + "=TRUE)"
	}
	switch q.Kind {
	case store.Public:
		f += "(" + schema.AttrTokenEndpointAuthMethod + "=none)"
	case store.SecretBased:
		f += "(|(" + schema.AttrTokenEndpointAuthMethod + "=client_secret_basic)(" +
			schema.AttrTokenEndpointAuthMethod + "=client_secret_post))"
	}
	if !q.UnusedSince.IsZero() {
		f += notAtOrAfter(schema.AttrIssuedAt, q.UnusedSince) + notAtOrAfter(schema.AttrLastUsedAt, q.UnusedSince)
	}
	if !q.NotBoundSince.IsZero() {
		f += notAtOrAfter(schema.AttrIssuedAt, q.NotBoundSince) + l.bindTerm(notAtOrAfter(l.lastBind, q.NotBoundSince))
	}
	if q.Bound {
		f += l.bindTerm("(" + l.lastBind + "=*)")
	}
	if q.Lingering {
		f += "(|(" + schema.AttrRetainedSecret + "=*)(" + schema.AttrPreviousTokenHash + "=*))"
	}
	return "(&" + f + ")"
}

// bindTerm is term, or one nothing matches where the directory keeps no
// last-bind record.
func (l layout) bindTerm(term string) string {
	if l.lastBind == "" {
		return "(!(objectClass=*))"
	}
	return term
}

// atOrAfter is (attr>=t), nothing for the zero time.
func atOrAfter(attr string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return "(" + attr + ">=" + ldapTime(t) + ")"
}

// atOrBefore is (attr<=t), nothing for the zero time.
func atOrBefore(attr string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return "(" + attr + "<=" + ldapTime(t) + ")"
}

// notAtOrAfter is "before t, or never": (!(attr>=t)), nothing for the
// zero time.
func notAtOrAfter(attr string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return "(!" + atOrAfter(attr, t) + ")"
}

// ldapTime is t as GeneralizedTime to the second.
func ldapTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// Ping implements store.Store by reading the base entry, which proves the
// server answers, the bind works and the base DN exists. A store that
// started unconnected connects first: it is not ready before it knows
// the directory's controls.
func (s *Store) Ping(ctx context.Context) error {
	if !s.connected.Load() {
		return s.connect(ctx)
	}
	return s.ping(ctx)
}

func (s *Store) ping(ctx context.Context) error {
	req := ldap.NewSearchRequest(s.cfg.BaseDN, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 0, false, "(objectClass=*)", []string{"1.1"}, nil)
	err := s.pool.do(ctx, opSearch, func(conn *ldap.Conn) error {
		_, err := conn.Search(req)
		return err
	})
	if err != nil {
		return fmt.Errorf("ldapstore: ping %s: %w", s.cfg.BaseDN, err)
	}
	return nil
}

// Close implements store.Store.
func (s *Store) Close() error {
	s.stopOnce.Do(func() {
		if s.stop != nil {
			close(s.stop)
		}
	})
	return s.pool.close()
}

// writeError classifies a failed write: values the server refused are the
// record's fault (ErrInvalidRecord), anything else is passed on wrapped.
func (s *Store) writeError(op, id string, err error) error {
	if err == nil {
		return nil
	}
	for _, code := range []uint16{ldap.LDAPResultInvalidAttributeSyntax, ldap.LDAPResultConstraintViolation,
		ldap.LDAPResultObjectClassViolation, ldap.LDAPResultAttributeOrValueExists} {
		if ldap.IsErrorWithCode(err, code) {
			return fmt.Errorf("%w: %s %s: %w", ErrInvalidRecord, op, id, err)
		}
	}
	return fmt.Errorf("ldapstore: %s %s: %w", op, id, err)
}
