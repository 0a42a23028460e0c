package ldapstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/schema"
	"github.com/dcrgate/dcrgate/store"
)

// maxAttempts bounds the compare-and-swap loop of Update before it gives up
// with store.ErrConflict.
const maxAttempts = 5

// pageSize is the paged-results size of List (RFC 2696); Active Directory
// refuses larger unpaged results.
const pageSize = 500

// Store is the LDAP backend of store.Store.
type Store struct {
	cfg    Config
	pool   *pool
	logger *slog.Logger
}

var _ store.Store = (*Store)(nil)

// New checks cfg and connects once, so a wrong URL, bind DN or password
// fails at start-up rather than on the first request.
func New(ctx context.Context, cfg Config, logger *slog.Logger) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{cfg: cfg, pool: newPool(cfg, logger), logger: logger}
	if err := s.Ping(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// SecretScheme is the scheme in which callers must hash secrets, e.g.
// "{SSHA512}".
func (s *Store) SecretScheme() string { return s.cfg.SecretScheme }

// Create implements store.Store: one Add, whose entryAlreadyExists (68) is
// the collision signal.
func (s *Store) Create(ctx context.Context, r client.Record) error {
	if !validID(r.ID) {
		return ErrInvalidID
	}
	r.Revision = 1
	a, err := encode(r)
	if err != nil {
		return err
	}
	req := ldap.NewAddRequest(dn(r.ID, s.cfg.BaseDN), nil)
	req.Attribute("objectClass", objectClasses)
	for _, name := range managedAttrs {
		if len(a[name]) > 0 {
			req.Attribute(name, a[name])
		}
	}
	err = s.pool.do(ctx, func(conn *ldap.Conn) error { return conn.Add(req) })
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultEntryAlreadyExists):
		return store.ErrAlreadyExists
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return fmt.Errorf("ldapstore: base DN %q does not exist: %w", s.cfg.BaseDN, err)
	}
	return s.writeError("create", r.ID, err)
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, id string) (client.Record, error) {
	r, _, err := s.read(ctx, id)
	return r, err
}

// read returns the record and the entry's attributes as stored, which
// Update diffs against.
func (s *Store) read(ctx context.Context, id string) (client.Record, attrs, error) {
	if !validID(id) {
		return client.Record{}, nil, fmt.Errorf("%w: %w", store.ErrNotFound, ErrInvalidID)
	}
	req := ldap.NewSearchRequest(dn(id, s.cfg.BaseDN), ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 0, false, "(objectClass="+schema.ClassClient+")", managedAttrs, nil)
	var res *ldap.SearchResult
	err := s.pool.do(ctx, func(conn *ldap.Conn) (err error) {
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
	a := entryAttrs(e)
	r, err := decode(a)
	if err != nil {
		return client.Record{}, nil, fmt.Errorf("ldapstore: entry %s is corrupt: %w", e.DN, err)
	}
	return r, a, nil
}

// Update implements store.Store. Each attempt is one Modify that deletes
// dcrRevision N and adds N+1 along with the change: if another writer got in
// first, value N is gone, the server answers noSuchAttribute (16) and the
// whole Modify is void, so fn runs again on a fresh read.
func (s *Store) Update(ctx context.Context, id string, fn func(client.Record) (client.Record, error)) (client.Record, error) {
	for attempt := range maxAttempts {
		written, err := s.tryUpdate(ctx, id, fn)
		if !errors.Is(err, errLostRace) {
			return written, err
		}
		if err := backoff(ctx, attempt); err != nil {
			return client.Record{}, err
		}
	}
	return client.Record{}, store.ErrConflict
}

// errLostRace is one lost compare-and-swap round, retried by Update.
var errLostRace = errors.New("ldapstore: revision changed")

func (s *Store) tryUpdate(ctx context.Context, id string, fn func(client.Record) (client.Record, error)) (client.Record, error) {
	cur, stored, err := s.read(ctx, id)
	if err != nil {
		return client.Record{}, err
	}
	next, err := fn(cur)
	if err != nil {
		return client.Record{}, err
	}
	next.ID, next.Revision = id, cur.Revision+1
	a, err := encode(next)
	if err != nil {
		return client.Record{}, err
	}
	req := ldap.NewModifyRequest(dn(id, s.cfg.BaseDN), nil)
	if len(stored[schema.AttrRevision]) > 0 {
		req.Delete(schema.AttrRevision, stored[schema.AttrRevision])
	}
	req.Add(schema.AttrRevision, []string{strconv.FormatUint(next.Revision, 10)})
	changes(req, stored, a)
	err = s.pool.do(ctx, func(conn *ldap.Conn) error { return conn.Modify(req) })
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchAttribute),
		ldap.IsErrorWithCode(err, ldap.LDAPResultAttributeOrValueExists) && len(stored[schema.AttrRevision]) == 0:
		return client.Record{}, errLostRace
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return client.Record{}, store.ErrNotFound
	case err != nil:
		return client.Record{}, s.writeError("update", id, err)
	}
	// Return the record as a later Get will see it, not as fn built it.
	return decode(a)
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

// Delete implements store.Store: read, check cond, delete. Between the read
// and the delete another writer may change the entry; the Assertion control
// (RFC 4528) on dcrRevision will close that window.
func (s *Store) Delete(ctx context.Context, id string, cond func(client.Record) error) error {
	cur, _, err := s.read(ctx, id)
	if err != nil {
		return err
	}
	if cond != nil {
		if err := cond(cur); err != nil {
			return err
		}
	}
	req := ldap.NewDelRequest(dn(id, s.cfg.BaseDN), nil)
	err = s.pool.do(ctx, func(conn *ldap.Conn) error { return conn.Del(req) })
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return store.ErrNotFound
	}
	return s.writeError("delete", id, err)
}

// listFilter builds the search filter for q, every value escaped.
func listFilter(q store.Query) string {
	filter := "(objectClass=" + schema.ClassClient + ")"
	for _, f := range [][2]string{{schema.AttrOwnerSubject, q.OwnerSubject}, {schema.AttrOwnerTokenID, q.OwnerTokenID}} {
		if f[1] != "" {
			filter += "(" + f[0] + "=" + ldap.EscapeFilter(f[1]) + ")"
		}
	}
	return "(&" + filter + ")"
}

// List implements store.Store. Directories do not sort without the
// server-side sorting control, which not all of them offer, so List reads
// every match (paged) and sorts here.
func (s *Store) List(ctx context.Context, q store.Query) ([]client.Record, error) {
	req := ldap.NewSearchRequest(s.cfg.BaseDN, ldap.ScopeSingleLevel, ldap.NeverDerefAliases,
		0, 0, false, listFilter(q), managedAttrs, nil)
	var res *ldap.SearchResult
	err := s.pool.do(ctx, func(conn *ldap.Conn) (err error) {
		res, err = conn.SearchWithPaging(req, pageSize)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("ldapstore: list: %w", err)
	}
	var out []client.Record
	for _, e := range res.Entries {
		r, _, err := s.decodeEntry(e)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b client.Record) int { return strings.Compare(a.ID, b.ID) })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// Ping implements store.Store by reading the base entry, which proves the
// server answers, the bind works and the base DN exists.
func (s *Store) Ping(ctx context.Context) error {
	req := ldap.NewSearchRequest(s.cfg.BaseDN, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 0, false, "(objectClass=*)", []string{"1.1"}, nil)
	err := s.pool.do(ctx, func(conn *ldap.Conn) error {
		_, err := conn.Search(req)
		return err
	})
	if err != nil {
		return fmt.Errorf("ldapstore: ping %s: %w", s.cfg.BaseDN, err)
	}
	return nil
}

// Close implements store.Store.
func (s *Store) Close() error { return s.pool.close() }

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
