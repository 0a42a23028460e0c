package ldapstore

import (
	"context"
	"crypto/subtle"
	"errors"
	"slices"

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

// knownWrites remembers the entries this process wrote, so that an RFC 7592
// update of one of them can be sent as the minimal change from what is
// stored, guarded by the remembered revision, without reading the entry
// first and without Post-Read: in a run of PUTs that is most of slapd's
// cost of the Modify (unchanged searchable copies, the Post-Read entry).
// It is never trusted on its own: a write elsewhere (another dcrgate, an
// administrator) moves dcrRevision, the guarded Modify fails, and the
// write is redone the ordinary way. Entries whose secrets the directory
// hashes (SchemeServerHashing) are not remembered: only the directory
// knows their stored form. A nil *knownWrites remembers nothing.
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
	if serverHashes(a) {
		k.forget(r.ID)
		return
	}
	if cur, ok := k.entries.Peek(r.ID); ok && cur.record.Revision > r.Revision {
		return
	}
	r.Metadata = r.Metadata.Clone()
	r.Secrets = slices.Clone(r.Secrets)
	k.entries.Add(r.ID, known{record: r, stored: a})
}

func (k *knownWrites) forget(id string) {
	if k != nil {
		k.entries.Remove(id)
	}
}

// lookup returns the remembered entry if its token hash is tokenHash,
// compared in constant time. A different hash may be a wrong token or a
// rotation this process did not make; either way only the directory can
// tell.
func (k *knownWrites) lookup(id, tokenHash string) (known, bool) {
	if k == nil {
		return known{}, false
	}
	e, ok := k.entries.Get(id)
	if !ok || subtle.ConstantTimeCompare([]byte(e.record.RegistrationTokenHash), []byte(tokenHash)) != 1 {
		return known{}, false
	}
	return e, true
}

// errUnknownState means replaceKnown could not use what it remembered; the
// caller writes the ordinary way.
var errUnknownState = errors.New("ldapstore: entry state not known")

// replaceKnown is ReplaceIfTokenHash for an entry this process wrote last:
// one Modify of only the attributes that change, guarded by the remembered
// revision (which also proves the token hash still is the remembered one).
// errUnknownState sends the caller down the ordinary path: nothing
// remembered, or the entry moved on.
func (s *Store) replaceKnown(ctx context.Context, id, tokenHash string, rep store.Replacement) (client.Record, error) {
	k, ok := s.known.lookup(id, tokenHash)
	if !ok {
		return client.Record{}, errUnknownState
	}
	next := k.record
	rep.Apply(&next)
	next.Revision++
	a, err := encode(next)
	if err != nil {
		return client.Record{}, err
	}
	if serverHashes(a) {
		return client.Record{}, errUnknownState
	}
	req, err := s.guardedModify(id, k.stored[schema.AttrRevision], next.Revision, false)
	if err != nil {
		return client.Record{}, err
	}
	s.layout.changes(req, k.stored, a)
	err = s.pool.do(ctx, opModify, func(conn *ldap.Conn) error { return conn.Modify(req) })
	if err := s.guardError("replace", id, err, false); err != nil {
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
