package ldapstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/store"
)

// pageSize is the paged-results size (RFC 2696) of Count and Walk; Active
// Directory refuses larger unpaged results.
const pageSize = 500

// errEnough ends a paged search early, abandoning the rest on the server.
var errEnough = errors.New("ldapstore: enough entries")

// Count implements store.Store: a paged one-level search that asks for no
// attributes ("1.1", RFC 4511 §4.5.1.8) and stops after limit entries, so a
// caller with 100,000 clients costs one page of DNs, not 100,000 decoded
// entries. With an equality index on the owner attributes the directory
// does not scan either.
func (s *Store) Count(ctx context.Context, q store.Query, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	var n int
	err := s.pool.do(ctx, opSearch, func(conn *ldap.Conn) error {
		n = 0
		req := s.searchRequest(q, []string{"1.1"})
		return s.eachPage(ctx, conn, req, min(pageSize, limit), false, func(entries []*ldap.Entry) error {
			n += len(entries)
			if n >= limit {
				return errEnough
			}
			return nil
		})
	})
	if err != nil && !errors.Is(err, errEnough) {
		return 0, fmt.Errorf("ldapstore: count: %w", err)
	}
	return min(n, limit), nil
}

// Walk implements store.Store: a paged search on a connection of its own,
// outside the pool, so that a long listing or reaping run neither holds a
// slot the API needs nor deadlocks when fn uses the store. One page is
// decoded at a time.
func (s *Store) Walk(ctx context.Context, q store.Query, fn func(client.Record) error) error {
	conn, err := s.pool.dedicated(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	req := s.searchRequest(q, s.layout.attrs(decodedAttrs))
	err = s.eachPage(ctx, conn, req, pageSize, true, func(entries []*ldap.Entry) error {
		for _, e := range entries {
			r, _, err := s.decodeEntry(e)
			if err == nil {
				err = fn(r)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	switch {
	case errors.Is(err, store.ErrStopWalk):
		return nil
	case isUnavailable(err):
		return fmt.Errorf("%w: walk: %w", store.ErrUnavailable, err)
	}
	return err
}

// searchRequest is the one-level search below the base DN for q.
func (s *Store) searchRequest(q store.Query, attributes []string) *ldap.SearchRequest {
	return ldap.NewSearchRequest(s.cfg.BaseDN, ldap.ScopeSingleLevel, ldap.NeverDerefAliases,
		0, 0, false, s.layout.filter(q), attributes, nil)
}

// eachPage runs req page by page (RFC 2696) on conn and hands each page's
// entries to page. An error from page ends the search; if more pages
// remained, the server is told to drop them (a paged request of size 0
// with the cookie). Every page is one round trip, bounded by the store's
// timeout and ctx, and counted in the metrics (the first one only if
// countFirst: pool.do counts its own).
func (s *Store) eachPage(ctx context.Context, conn *ldap.Conn, req *ldap.SearchRequest, size int, countFirst bool, page func([]*ldap.Entry) error) error {
	paging := ldap.NewControlPaging(uint32(size))
	req.Controls = []ldap.Control{paging}
	for n := 0; ; n++ {
		timeout, err := opTimeout(ctx, s.cfg.Timeout)
		if err != nil {
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
		conn.SetTimeout(timeout)
		start := time.Now()
		res, err := conn.Search(req)
		if n > 0 || countFirst {
			s.metrics.observe(opSearch, err, start)
		}
		if err != nil {
			return err
		}
		var cookie []byte
		if next, ok := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging); ok {
			cookie = next.Cookie
		}
		if err := page(res.Entries); err != nil {
			if len(cookie) > 0 {
				paging.PagingSize = 0
				paging.SetCookie(cookie)
				start := time.Now()
				_, abandonErr := conn.Search(req)
				s.metrics.observe(opSearch, abandonErr, start)
			}
			return err
		}
		if len(cookie) == 0 {
			return nil
		}
		paging.SetCookie(cookie)
	}
}
