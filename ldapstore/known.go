package ldapstore

import (
	"context"
	"errors"
	"maps"
	"strconv"

	"github.com/go-ldap/ldap/v3"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/schema"
	"github.com/dcrgate/dcrgate/store"
)

// knownEntries bounds how many entries this process remembers writing:
// about 2.5 KiB each, so a few MiB at most.
const knownEntries = 1024

// known is an entry exactly as this process last wrote it: the record and
// every attribute as stored (searchable copies included).
type known struct {
	record client.Record
	stored attrs
}

// knownWrites remembers the entries this process wrote, so that an update
// of one of them (an RFC 7592 PUT, a GET that rotates) can be sent as the
// minimal change from what is stored, guarded by the remembered revision,
// without reading the entry first and without Post-Read: in a run of PUTs
// that is most of slapd's cost (the read, unchanged searchable copies).
// It is never trusted on its own: the Modify asserts the remembered
// revision, token hash and issue time (without the Assertion control it
// deletes the remembered revision and token hash values, which fails if
// either moved), so another dcrgate's write, an administrator revoking the
// token or an entry recreated under the same ID fail the Modify as a
// whole, and the write is redone the ordinary way; and a refusal is never
// answered from memory. Only what this process wrote in full is
// remembered (Create, and the updates made from it), never an entry it
// merely read: its searchable copies might not match its metadata. Entries whose
// secrets the directory hashes (SchemeServerHashing) are not remembered
// either: only the directory knows their stored form. A nil *knownWrites
// remembers nothing.
type knownWrites struct {
	entries *lru.Cache[string, known]
}

func newKnownWrites() *knownWrites {
	c, err := lru.New[string, known](knownEntries)
	if err != nil {
		panic(err) // only for a size < 1
	}
	return &knownWrites{entries: c}
}

// remember keeps r, stored as a, unless a newer revision is already known
// (two writes of one client finishing out of order).
func (k *knownWrites) remember(r client.Record, a attrs) {
	if k == nil {
		return
	}
	if cur, ok := k.entries.Peek(r.ID); ok && cur.record.Revision > r.Revision {
		return
	}
	k.add(r, a)
}

// created keeps r, which an Add just wrote: whatever was remembered under
// its ID belonged to an entry since deleted.
func (k *knownWrites) created(r client.Record, a attrs) {
	if k != nil {
		k.add(r, a)
	}
}

func (k *knownWrites) add(r client.Record, a attrs) {
	if serverHashes(a) {
		k.forget(r.ID)
		return
	}
	k.entries.Add(r.ID, known{record: r.Clone(), stored: a})
}

func (k *knownWrites) forget(id string) {
	if k != nil {
		k.entries.Remove(id)
	}
}

// get returns a copy of the entry remembered under id, if any.
func (k *knownWrites) get(id string) (known, bool) {
	if k == nil {
		return known{}, false
	}
	e, ok := k.entries.Get(id)
	if !ok {
		return known{}, false
	}
	e.record = e.record.Clone()
	return e, true
}

// errUnknownState means updateKnown could not use what it remembered; the
// caller writes the ordinary way.
var errUnknownState = errors.New("ldapstore: entry state not known")

// updateKnown is Update for an entry this process wrote last: fn runs on
// the remembered record, and its result is sent as one Modify of only the
// attributes that change, guarded by the remembered state (knownGuard):
// no read, no Post-Read. errUnknownState sends the caller down the
// ordinary path: nothing remembered, the entry moved on, or fn refused —
// memory may be stale, so only the stored entry may decide a refusal
// (a token this process saw rotate elsewhere must answer as the
// directory says).
func (s *Store) updateKnown(ctx context.Context, id string, fn func(client.Record) (client.Record, error)) (client.Record, error) {
	k, ok := s.known.get(id)
	if !ok {
		return client.Record{}, errUnknownState
	}
	next, err := fn(k.record)
	if err != nil {
		return client.Record{}, errUnknownState
	}
	next.ID, next.Revision = id, k.record.Revision+1
	a, err := s.encode(next)
	if err != nil {
		return client.Record{}, err
	}
	if serverHashes(a) {
		return client.Record{}, errUnknownState
	}
	req, old := s.knownGuard(id, k.stored, a, next.Revision)
	s.layout.changes(req, old, a)
	err = s.pool.do(ctx, opModify, func(conn *ldap.Conn) error { return conn.Modify(req) })
	if r, applied, unknown := s.appliedEarlier(ctx, err, id, rotationWitness(k.record.RegistrationTokenHash, next.RegistrationTokenHash)); applied || unknown != nil {
		s.known.forget(id)
		return r, unknown
	}
	if err := s.guardError("update", id, err, false); err != nil {
		s.known.forget(id)
		if errors.Is(err, errLostRace) || errors.Is(err, store.ErrNotFound) {
			return client.Record{}, errUnknownState
		}
		return client.Record{}, err
	}
	written := asWritten(next)
	s.known.remember(written, a)
	return written, nil
}

// knownGuard starts the Modify of updateKnown. With the Assertion control
// it asserts the remembered revision, token hash and issue time; without
// it, it deletes the remembered revision and token hash values and adds the
// new ones (noSuchAttribute if either moved). It returns the stored state
// for the diff, with the token hash taken out of it when the guard already
// writes it.
func (s *Store) knownGuard(id string, stored, next attrs, revision uint64) (*ldap.ModifyRequest, attrs) {
	rev, token := s.layout.attr(schema.AttrRevision), s.layout.attr(schema.AttrRegistrationTokenHash)
	nextRevision := []string{strconv.FormatUint(revision, 10)}
	if s.assertion.Load() {
		var terms []equality
		for _, name := range []string{schema.AttrRevision, schema.AttrRegistrationTokenHash, schema.AttrIssuedAt} {
			for _, v := range stored[name] {
				terms = append(terms, equality{s.layout.attr(name), v})
			}
		}
		req := ldap.NewModifyRequest(s.dn(id), []ldap.Control{newAssertion(terms...)})
		req.Replace(rev, nextRevision)
		return req, stored
	}
	req := ldap.NewModifyRequest(s.dn(id), nil)
	req.Delete(rev, stored[schema.AttrRevision])
	req.Add(rev, nextRevision)
	old := maps.Clone(stored)
	if len(stored[schema.AttrRegistrationTokenHash]) > 0 {
		req.Delete(token, stored[schema.AttrRegistrationTokenHash])
		delete(old, schema.AttrRegistrationTokenHash)
	}
	return req, old
}
