package registration

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/dcrgate/dcrgate/audit"
	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/fetch"
	"github.com/dcrgate/dcrgate/oauth"
	"github.com/dcrgate/dcrgate/policies"
	"github.com/dcrgate/dcrgate/store"
)

// OpMetadataDocument is the fetch of a Client ID Metadata Document.
const OpMetadataDocument Operation = "metadata_document"

// DocumentFetcher gets the JSON documents clients name by URL: metadata
// documents and sector_identifier_uri arrays (package fetch, guarded).
type DocumentFetcher interface {
	JSON(ctx context.Context, url string) (fetch.Document, error)
}

// MetadataDocuments configures Client ID Metadata Documents
// (draft-ietf-oauth-client-id-metadata-document): clients whose client_id
// is the https URL of a JSON document describing them, fetched by dcrgate
// and written to the directory for an authorization server that reads its
// clients there.
type MetadataDocuments struct {
	Enabled bool
	// AllowedHosts, when set, are the only hosts whose documents are
	// fetched; DeniedHosts are never fetched from. "*.example.com" names
	// every subdomain. Checked before any request is made.
	AllowedHosts, DeniedHosts []string
	// MinCache and MaxCache bound how long a fetched document is kept: its
	// Cache-Control max-age, clamped to them (without one, an hour). The
	// entry expires then, so the AS stops finding it and asks again.
	MinCache, MaxCache time.Duration
}

// defaultDocumentAge is how long a document its server says nothing about
// caching is kept, within MinCache and MaxCache.
const defaultDocumentAge = time.Hour

// age is how long doc is kept.
func (m MetadataDocuments) age(doc fetch.Document) time.Duration {
	age := defaultDocumentAge
	if doc.HasMaxAge {
		age = doc.MaxAge
	}
	return min(max(age, m.MinCache), max(m.MaxCache, m.MinCache))
}

// trusts reports whether the host of the document URL id may be fetched
// from: on no deny list, and on the allow list when there is one.
func (m MetadataDocuments) trusts(id string) bool {
	u, err := url.Parse(id)
	if err != nil {
		return false
	}
	host := u.Hostname()
	matches := func(p string) bool { return policies.HostMatches(p, host) }
	if slices.ContainsFunc(m.DeniedHosts, matches) {
		return false
	}
	return len(m.AllowedHosts) == 0 || slices.ContainsFunc(m.AllowedHosts, matches)
}

// MetadataDocument makes the client whose ID is the URL of its metadata
// document known to the directory: it answers the stored client while its
// copy is fresh, else fetches the document, validates it, runs the policy
// chain on it as on a registration by the caller, and writes the entry —
// a public client (or a private_key_jwt one, with the document's keys)
// with no secret and no registration access token, since nobody manages
// it through RFC 7592: its document does. created reports a new entry.
func (s *Service) MetadataDocument(ctx context.Context, bearer, clientID string) (_ Registration, created bool, err error) {
	ev := audit.Event{Operation: string(OpMetadataDocument)}
	defer func() { s.record(ctx, ev, err) }()
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	if err := s.limitRegistration(ctx, false); err != nil {
		return Registration{}, false, err
	}
	if bearer == "" && s.opts.RequireInitialAccessToken {
		// The anonymous profile admits registrations, not fetches: a
		// stranger must not make dcrgate fetch and write at will.
		return Registration{}, false, oauth.ErrMissingToken.WithDescription("an initial access token is required to fetch a client metadata document")
	}
	principal, err := s.authorizeRegistration(ctx, bearer)
	if err != nil {
		return Registration{}, false, err
	}
	owner, _ := ownerOf(principal)
	ev.OwnerIssuer, ev.OwnerSubject = owner.Issuer, owner.Subject
	if err := limit(s.limits.owner, "registration_per_owner", ownerKey(owner)); err != nil {
		return Registration{}, false, err
	}
	r, created, err := s.metadataDocument(ctx, clientID, policies.Request{Principal: principal}, false, &ev)
	if err != nil {
		return Registration{}, false, err
	}
	return s.present(r, issued{}), created, nil
}

// MetadataDocument is the administrator's fetch of a metadata document:
// the same checks and policies as the API's, with no principal; refresh
// fetches it even while the stored copy is fresh.
func (a *Admin) MetadataDocument(ctx context.Context, clientID string, refresh bool) (_ client.Record, created bool, err error) {
	ev := audit.Event{Operation: "admin." + string(OpMetadataDocument), Actor: a.actor}
	defer func() { a.s.record(ctx, ev, err) }()
	ctx, cancel := a.s.bounded(ctx)
	defer cancel()
	return a.s.metadataDocument(ctx, clientID, policies.Request{}, refresh, &ev)
}

// metadataDocument returns the stored client while fresh (unless refresh),
// else refreshes it from its document.
func (s *Service) metadataDocument(ctx context.Context, id string, caller policies.Request, refresh bool, ev *audit.Event) (client.Record, bool, error) {
	if !s.opts.MetadataDocuments.Enabled || s.opts.Fetcher == nil {
		return client.Record{}, false, oauth.ErrNotFound.WithDescription("client ID metadata documents are not enabled")
	}
	if !client.IsMetadataDocumentID(id) {
		return client.Record{}, false, oauth.ErrInvalidRequest.WithDescription("client_id must be the https URL of a client metadata document: a host, a path, no fragment, no user information, no dot segments, at most %d characters", client.MaxMetadataDocumentIDLength)
	}
	ev.ClientID = id
	if !s.opts.MetadataDocuments.trusts(id) {
		return client.Record{}, false, oauth.ErrInvalidClientMetadata.WithDescription("client metadata documents from this host are not accepted").WithPolicy("metadata_documents.hosts")
	}
	now := s.now()
	old, err := s.store.Get(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return s.storeDocument(ctx, id, nil, caller, now)
	case err != nil:
		return client.Record{}, false, storeError(err)
	case old.Disabled && !AwaitingApproval(old):
		return client.Record{}, false, oauth.ErrAccessDenied.WithDescription("this client is disabled by an administrator")
	case now.Before(old.ExpiresAt) && !refresh:
		return old, false, nil
	}
	return s.storeDocument(ctx, id, &old, caller, now)
}

// storeDocument fetches id's document and writes it: over old (keeping
// its issue time and state) or as a new entry. A concurrent fetch of the
// same document that wrote first wins; its entry is returned.
func (s *Service) storeDocument(ctx context.Context, id string, old *client.Record, caller policies.Request, now time.Time) (client.Record, bool, error) {
	op := OpRegister
	if old != nil {
		op = OpUpdate
	}
	pr := s.policyRequest(op, id, caller, nil)
	md, expires, err := s.fetchDocument(ctx, id, pr, now)
	if err != nil {
		return client.Record{}, false, err
	}
	if old != nil {
		r, err := s.store.Update(ctx, id, func(r client.Record) (client.Record, error) {
			r.Metadata, r.ExpiresAt, r.LastUsedAt = md, expires, now.Truncate(time.Second)
			return r, nil
		})
		switch {
		case err == nil:
			return r, false, nil
		case !errors.Is(err, store.ErrNotFound): // else reaped meanwhile: create it anew
			return client.Record{}, false, storeError(err)
		}
	}
	rec := client.Record{ID: id, Metadata: md, IssuedAt: now.Truncate(time.Second), ExpiresAt: expires,
		LastUsedAt: now.Truncate(time.Second)}
	pr.Operation, pr.Metadata = string(OpRegister), &md
	s.holdForApproval(ctx, &rec, pr)
	switch err := s.store.Create(ctx, rec); {
	case errors.Is(err, store.ErrAlreadyExists): // a concurrent fetch wrote first
		r, err := s.store.Get(ctx, id)
		if err != nil {
			return client.Record{}, false, storeError(err)
		}
		return r, false, nil
	case err != nil:
		return client.Record{}, false, storeError(err)
	}
	return rec, true, nil
}

// fetchDocument gets and judges id's document; it returns the client's
// metadata and when the copy expires.
func (s *Service) fetchDocument(ctx context.Context, id string, pr policies.Request, now time.Time) (client.Metadata, time.Time, error) {
	doc, err := s.opts.Fetcher.JSON(ctx, id)
	if err != nil {
		return client.Metadata{}, time.Time{}, oauth.ErrInvalidClientMetadata.WithDescription("the client metadata document could not be used: %s", fetchReason(err)).WithCause(err)
	}
	md, err := documentMetadata(doc.Body, id, s.opts.Metadata)
	if err != nil {
		return client.Metadata{}, time.Time{}, err
	}
	if md, err = s.judge(ctx, md, pr); err != nil {
		return client.Metadata{}, time.Time{}, err
	}
	return md, now.Add(s.opts.MetadataDocuments.age(doc)).Truncate(time.Second), nil
}

// documentMetadata decodes a metadata document (draft §4.1): its client_id
// must be its URL; it holds no secret, no server-managed member and no
// software statement; its client authenticates without a shared secret,
// by default as a public client.
func documentMetadata(body []byte, id string, opts client.Options) (client.Metadata, error) {
	req, err := client.Decode(body, opts)
	if err != nil {
		return client.Metadata{}, err
	}
	bad := oauth.ErrInvalidClientMetadata
	switch {
	case req.ClientID != id:
		return client.Metadata{}, bad.WithDescription("the document's client_id must be exactly the URL it was fetched from")
	case req.ClientSecret != "" || len(req.ServerManaged) > 0:
		return client.Metadata{}, bad.WithDescription("a client metadata document must not hold a client_secret or any member the server sets")
	case req.SoftwareStatement != "":
		return client.Metadata{}, bad.WithDescription("a client metadata document must not hold a software_statement")
	}
	md := req.Metadata
	switch md.TokenEndpointAuthMethod {
	case "":
		md.TokenEndpointAuthMethod = client.AuthNone
	case client.AuthClientSecretBasic, client.AuthClientSecretPost, client.AuthClientSecretJWT:
		return client.Metadata{}, bad.WithDescription("token_endpoint_auth_method %s needs a shared secret, which a client metadata document cannot have; use none or private_key_jwt", md.TokenEndpointAuthMethod)
	}
	return md, nil
}

// checkSector verifies sector_identifier_uri (OpenID Connect Dynamic
// Client Registration §5): the https document it names is a JSON array
// that holds every one of the client's redirect_uris. Without a fetcher
// it is not checked.
func (s *Service) checkSector(ctx context.Context, md client.Metadata) error {
	if md.SectorIdentifierURI == "" || s.opts.Fetcher == nil {
		return nil
	}
	bad := oauth.ErrInvalidClientMetadata
	doc, err := s.opts.Fetcher.JSON(ctx, md.SectorIdentifierURI)
	if err != nil {
		return bad.WithDescription("sector_identifier_uri could not be used: %s", fetchReason(err)).WithCause(err)
	}
	var listed []string
	if json.Unmarshal(doc.Body, &listed) != nil {
		return bad.WithDescription("sector_identifier_uri must hold a JSON array of redirect URIs")
	}
	for i, uri := range md.RedirectURIs {
		if !slices.Contains(listed, uri) {
			return oauth.ErrInvalidRedirectURI.WithDescription("redirect_uris[%d] is not listed at sector_identifier_uri", i)
		}
	}
	return nil
}

// fetchReason is a fetch error as the caller is told it.
func fetchReason(err error) string {
	return strings.TrimPrefix(err.Error(), fetch.ErrFetch.Error()+": ")
}
