package ldapstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/client"
	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/schema"
)

var (
	// ErrInvalidID is returned by Create for an ID that is not a plausible
	// generated client_id; the other methods answer store.ErrNotFound.
	ErrInvalidID = errors.New("ldapstore: invalid client id")
	// ErrInvalidRecord means a record cannot be written as an entry of the
	// shipped schema (e.g. a clear-text secret, a non-ASCII grant type).
	ErrInvalidRecord = errors.New("ldapstore: record does not fit the directory schema")
)

// AcceptsID reports whether this directory's layout can name a client with
// id: on AD, only IDs dcrgate issues (see layout.validID).
func (s *Store) AcceptsID(id string) bool { return s.layout.validID(id) }

// validID is the one definition of a client ID's shape in this layout,
// checked before any ID reaches a DN: one dcrgate issued, or a metadata
// document's URL where the RDN is dcrClientId (an IA5 string of up to 255
// characters; AD's cn holds 64). Every ID is escaped in DNs and filters
// all the same, so nothing a caller sends is parsed as LDAP syntax.
func (l layout) validID(id string) bool {
	return credentials.ValidClientID(id) || (l.rdn == schema.AttrClientID && client.IsMetadataDocumentID(id))
}

// timeLayout is GeneralizedTime in UTC to the second (RFC 4517 §3.3.13).
const timeLayout = "20060102150405Z"

// secretScheme matches the "{SCHEME}" prefix every stored secret hash must
// carry, so a clear-text secret is never written to userPassword.
var secretScheme = regexp.MustCompile(`^\{[A-Za-z0-9-]+\}.`)

// objectClasses are the object classes of a client entry.
var objectClasses = []string{"top", schema.ClassClient}

// managedAttrs are the attributes the store writes and reads, in write
// order; attributes an administrator adds to an entry are left alone.
var managedAttrs = []string{
	schema.AttrClientID, schema.AttrRevision, schema.AttrMetadata,
	schema.AttrRedirectURI, schema.AttrGrantType, schema.AttrResponseType, schema.AttrScope,
	schema.AttrTokenEndpointAuthMethod, schema.AttrSoftwareID, schema.AttrSoftwareVersion,
	schema.AttrClientName, schema.AttrOwnerIssuer, schema.AttrOwnerSubject, schema.AttrOwnerTokenID,
	schema.AttrIssuedAt, schema.AttrSecretExpiresAt, schema.AttrExpiresAt, schema.AttrDisabled,
	schema.AttrRegistrationTokenHash, schema.AttrUserPassword, schema.AttrRetainedSecret,
	schema.AttrPreviousTokenHash, schema.AttrPreviousTokenExpiresAt, schema.AttrOwnerPrincipal,
	schema.AttrSoftwareStatement, schema.AttrSuspendedSecret, schema.AttrLastUsedAt, schema.AttrDefaultedMetadata,
	schema.AttrDisabledReason,
}

// directoryAttrs are read with an entry but written only by the directory
// itself (operational attributes): dcrgate never sends them.
var directoryAttrs = []string{keyLastBind}

// searchableCopies are the managed attributes that copy metadata members
// for filters; decode never reads them, so reads do not fetch them.
var searchableCopies = []string{
	schema.AttrRedirectURI, schema.AttrGrantType, schema.AttrResponseType, schema.AttrScope,
	schema.AttrTokenEndpointAuthMethod, schema.AttrSoftwareID, schema.AttrSoftwareVersion,
	schema.AttrClientName,
}

// decodedAttrs are the attributes decode reads: the metadata, the
// server-side state and what the directory keeps of the client.
var decodedAttrs = append(slices.DeleteFunc(slices.Clone(managedAttrs), func(a string) bool {
	return slices.Contains(searchableCopies, a)
}), directoryAttrs...)

// attrs is an entry's managed attributes by canonical name; absent and
// empty are the same thing.
type attrs map[string][]string

// entryAttrs picks the managed attributes out of a search result, whatever
// case the server spelled their names in.
func (l layout) entryAttrs(e *ldap.Entry) attrs {
	a := attrs{}
	for _, name := range slices.Concat(managedAttrs, directoryAttrs) {
		if attr := l.attr(name); attr == "" {
			continue
		} else if values := e.GetEqualFoldAttributeValues(attr); len(values) > 0 {
			a[name] = values
		}
	}
	return a
}

// dn is the entry's DN in the default layout; id must already be valid.
func dn(id, baseDN string) string { return defaultLayout.dn(id, baseDN) }

// encode maps a record to its entry: the canonical JSON, searchable copies
// of metadata members, and the server-side state.
func encode(r client.Record) (attrs, error) { return encodeFor(r, true) }

// encodeFor is encode; suspend says whether a disabled client's secrets
// are kept out of userPassword (see setSecrets).
func encodeFor(r client.Record, suspend bool) (attrs, error) {
	metadata, err := r.Metadata.MarshalJSON() // not json.Marshal, which would check and compact it again
	if err != nil {
		return nil, fmt.Errorf("%w: metadata: %w", ErrInvalidRecord, err)
	}
	a := attrs{}
	a.set(schema.AttrClientID, r.ID)
	a.set(schema.AttrRevision, strconv.FormatUint(r.Revision, 10))
	a[schema.AttrMetadata] = []string{string(metadata)}
	a.setCopies(r.Metadata)
	a.set(schema.AttrOwnerIssuer, r.Owner.Issuer)
	a.set(schema.AttrOwnerSubject, r.Owner.Subject)
	a.set(schema.AttrOwnerTokenID, r.Owner.TokenID)
	a.set(schema.AttrRegistrationTokenHash, r.RegistrationTokenHash)
	a.set(schema.AttrPreviousTokenHash, r.PreviousToken.Hash)
	a.set(schema.AttrDisabled, strings.ToUpper(strconv.FormatBool(r.Disabled)))
	a.set(schema.AttrDisabledReason, r.DisabledReason)
	a.set(schema.AttrDefaultedMetadata, r.Defaulted...)
	for name, t := range map[string]time.Time{schema.AttrIssuedAt: r.IssuedAt,
		schema.AttrSecretExpiresAt: r.SecretExpiresAt, schema.AttrExpiresAt: r.ExpiresAt,
		schema.AttrPreviousTokenExpiresAt: r.PreviousToken.ExpiresAt, schema.AttrLastUsedAt: r.LastUsedAt} {
		if err := a.setTime(name, t); err != nil {
			return nil, err
		}
	}
	if err := a.setSecrets(r.Secrets, r.Disabled && suspend); err != nil {
		return nil, err
	}
	if p := principalOf(r.Owner); p != nil {
		if err := a.setJSON(schema.AttrOwnerPrincipal, p); err != nil {
			return nil, err
		}
	}
	if st := r.Statement; st != nil {
		err := a.setJSON(schema.AttrSoftwareStatement, storedStatement{Issuer: st.Issuer, Claims: st.Claims, Scopes: st.Scopes, Defaults: st.Defaults})
		if err != nil {
			return nil, err
		}
	}
	return a, a.checkSyntax()
}

// storedPrincipal is dcrOwnerPrincipal: the registering principal beyond
// the issuer, subject and token ID, which have searchable attributes of
// their own.
type storedPrincipal struct {
	ClientID  string          `json:"client_id,omitempty"`
	Scopes    []string        `json:"scopes,omitempty"`
	Claims    json.RawMessage `json:"claims,omitempty"`
	Anonymous bool            `json:"anonymous,omitempty"`
}

func principalOf(o client.Owner) *storedPrincipal {
	if o.ClientID == "" && len(o.Scopes) == 0 && len(o.Claims) == 0 && !o.Anonymous {
		return nil
	}
	return &storedPrincipal{ClientID: o.ClientID, Scopes: o.Scopes, Claims: o.Claims, Anonymous: o.Anonymous}
}

// storedStatement is dcrSoftwareStatement.
type storedStatement struct {
	Issuer   string          `json:"iss"`
	Claims   json.RawMessage `json:"claims,omitempty"`
	Scopes   []string        `json:"scopes,omitempty"`
	Defaults json.RawMessage `json:"defaults,omitempty"`
}

// setJSON stores v as a JSON document.
func (a attrs) setJSON(name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalidRecord, name, err)
	}
	a[name] = []string{string(data)}
	return nil
}

// setCopies stores the searchable copies of m's members.
func (a attrs) setCopies(m client.Metadata) {
	a.set(schema.AttrRedirectURI, m.RedirectURIs...)
	a.set(schema.AttrGrantType, m.GrantTypes...)
	a.set(schema.AttrResponseType, m.ResponseTypes...)
	a.set(schema.AttrScope, strings.Fields(m.Scope)...)
	a.set(schema.AttrTokenEndpointAuthMethod, m.TokenEndpointAuthMethod)
	a.set(schema.AttrSoftwareID, m.SoftwareID)
	a.set(schema.AttrSoftwareVersion, m.SoftwareVersion)
	a.set(schema.AttrClientName, m.ClientName)
}

// set stores the non-blank values, dropping repeats: directories reject
// empty strings and duplicate values, and the searchable copies need
// neither (the JSON keeps the exact list).
func (a attrs) set(name string, values ...string) {
	var kept []string
	seen := map[string]bool{}
	for _, v := range values {
		// Matching rules ignore insignificant spaces, so " a" and "a" would
		// be duplicates to the server.
		key := strings.Join(strings.Fields(v), " ")
		if key != "" && !seen[key] {
			seen[key] = true
			kept = append(kept, v)
		}
	}
	if len(kept) > 0 {
		a[name] = kept
	}
}

// setTime stores t as GeneralizedTime; the zero time means "never" and is
// omitted.
func (a attrs) setTime(name string, t time.Time) error {
	if t.IsZero() {
		return nil
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return fmt.Errorf("%w: %s: year %d out of range", ErrInvalidRecord, name, y)
	}
	a[name] = []string{t.UTC().Format(timeLayout)}
	return nil
}

// setSecrets puts every hash in userPassword, so a bind with any accepted
// secret succeeds, and lists the retained ones with their expiry in
// dcrRetainedSecret so that the current one can be told apart. A suspended
// (disabled) client's hashes go to dcrSuspendedSecret instead: with no
// userPassword the directory refuses every bind as the client, whatever
// its ACLs.
func (a attrs) setSecrets(secrets []client.SecretHash, suspended bool) error {
	attr := schema.AttrUserPassword
	if suspended {
		attr = schema.AttrSuspendedSecret
	}
	seen := map[string]bool{}
	for _, s := range secrets {
		switch {
		case !secretScheme.MatchString(s.Hash):
			return fmt.Errorf("%w: a secret is not a {SCHEME}-prefixed hash", ErrInvalidRecord)
		case seen[s.Hash]:
			return fmt.Errorf("%w: the same secret hash is listed twice", ErrInvalidRecord)
		case (suspended || !s.ExpiresAt.IsZero()) && strings.HasPrefix(s.Hash, credentials.ClearPrefix):
			// Only userPassword is hashed by the directory; dcrRetainedSecret
			// and dcrSuspendedSecret are readable like any attribute.
			return fmt.Errorf("%w: a retained or suspended secret is clear text", ErrInvalidRecord)
		}
		seen[s.Hash] = true
		a[attr] = append(a[attr], s.Hash)
		if !s.ExpiresAt.IsZero() {
			a[schema.AttrRetainedSecret] = append(a[schema.AttrRetainedSecret],
				s.ExpiresAt.UTC().Format(timeLayout)+"$"+s.Hash)
		}
	}
	return nil
}

// syntaxes maps attribute names to their schema syntax.
var syntaxes = func() map[string]string {
	m := map[string]string{}
	for _, at := range schema.Definition().AttributeTypes {
		m[at.Name] = at.Syntax
	}
	return m
}()

// checkSyntax rejects values the server would refuse, naming the attribute
// instead of surfacing a bare "invalid attribute syntax" from the server.
func (a attrs) checkSyntax() error {
	for name, values := range a {
		for _, v := range values {
			switch syntaxes[name] {
			case schema.SyntaxIA5String:
				if strings.ContainsFunc(v, func(r rune) bool { return r >= utf8.RuneSelf || r == 0 }) {
					return fmt.Errorf("%w: %s must be ASCII", ErrInvalidRecord, name)
				}
			case schema.SyntaxDirectoryString:
				if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
					return fmt.Errorf("%w: %s must be valid UTF-8 without NUL", ErrInvalidRecord, name)
				}
			}
		}
	}
	return nil
}

// decode maps an entry back to a record. The metadata comes from the JSON
// alone; the searchable copies are never read back.
func decode(a attrs) (client.Record, error) {
	r := client.Record{
		ID:                    first(a, schema.AttrClientID),
		RegistrationTokenHash: first(a, schema.AttrRegistrationTokenHash),
		PreviousToken:         client.PreviousToken{Hash: first(a, schema.AttrPreviousTokenHash)},
		Owner: client.Owner{Issuer: first(a, schema.AttrOwnerIssuer), Subject: first(a, schema.AttrOwnerSubject),
			TokenID: first(a, schema.AttrOwnerTokenID)},
		Disabled:       first(a, schema.AttrDisabled) == "TRUE",
		DisabledReason: first(a, schema.AttrDisabledReason),
		Defaulted:      a[schema.AttrDefaultedMetadata],
	}
	var errs []error
	if raw := first(a, schema.AttrMetadata); raw != "" {
		// Not json.Unmarshal, which would scan the bytes once more before
		// handing them to UnmarshalJSON, which checks them anyway.
		errs = append(errs, wrapAttr(schema.AttrMetadata, r.Metadata.UnmarshalJSON([]byte(raw))))
	}
	if rev := first(a, schema.AttrRevision); rev != "" {
		var err error
		r.Revision, err = strconv.ParseUint(rev, 10, 64)
		errs = append(errs, wrapAttr(schema.AttrRevision, err))
	}
	for name, t := range map[string]*time.Time{schema.AttrIssuedAt: &r.IssuedAt,
		schema.AttrSecretExpiresAt: &r.SecretExpiresAt, schema.AttrExpiresAt: &r.ExpiresAt,
		schema.AttrPreviousTokenExpiresAt: &r.PreviousToken.ExpiresAt, schema.AttrLastUsedAt: &r.LastUsedAt,
		keyLastBind: &r.LastBindAt} {
		var err error
		*t, err = parseTime(first(a, name))
		errs = append(errs, wrapAttr(name, err))
	}
	var err error
	r.Secrets, err = decodeSecrets(slices.Concat(a[schema.AttrUserPassword], a[schema.AttrSuspendedSecret]), a[schema.AttrRetainedSecret])
	errs = append(errs, err, decodeOwner(a, &r.Owner), decodeStatement(a, &r.Statement))
	return r, errors.Join(errs...)
}

// decodeOwner completes o with dcrOwnerPrincipal, when the entry has one
// (entries written before it existed do not).
func decodeOwner(a attrs, o *client.Owner) error {
	raw := first(a, schema.AttrOwnerPrincipal)
	if raw == "" {
		return nil
	}
	var p storedPrincipal
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return wrapAttr(schema.AttrOwnerPrincipal, err)
	}
	o.ClientID, o.Scopes, o.Claims, o.Anonymous = p.ClientID, p.Scopes, p.Claims, p.Anonymous
	return nil
}

// decodeStatement reads dcrSoftwareStatement; none leaves *st nil.
func decodeStatement(a attrs, st **client.Statement) error {
	raw := first(a, schema.AttrSoftwareStatement)
	if raw == "" {
		return nil
	}
	var s storedStatement
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return wrapAttr(schema.AttrSoftwareStatement, err)
	}
	*st = &client.Statement{Issuer: s.Issuer, Claims: s.Claims, Scopes: s.Scopes, Defaults: s.Defaults}
	return nil
}

// decodeSecrets lists the current secrets (userPassword values not marked
// retained) first, then the retained ones in their stored order. A retained
// marker whose hash is no longer in userPassword is stale and ignored.
func decodeSecrets(passwords, retained []string) ([]client.SecretHash, error) {
	expiry := map[string]time.Time{}
	var order []string
	for _, v := range retained {
		at, hash, ok := strings.Cut(v, "$")
		t, err := parseTime(at)
		if !ok || err != nil || t.IsZero() {
			return nil, fmt.Errorf("%s: malformed value (want time$hash)", schema.AttrRetainedSecret)
		}
		expiry[hash] = t
		order = append(order, hash)
	}
	var secrets []client.SecretHash
	for _, p := range passwords {
		if _, ok := expiry[p]; !ok {
			secrets = append(secrets, client.SecretHash{Hash: p})
		}
	}
	for _, hash := range order {
		if slices.Contains(passwords, hash) {
			secrets = append(secrets, client.SecretHash{Hash: hash, ExpiresAt: expiry[hash]})
		}
	}
	return secrets, nil
}

// parseTime reads GeneralizedTime; Go accepts an optional fraction after
// the seconds, which some directories add. "" is the zero time.
func parseTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("20060102150405Z0700", v)
	return t.UTC(), err
}

func first(a attrs, name string) string {
	if len(a[name]) == 0 {
		return ""
	}
	return a[name][0]
}

func wrapAttr(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", name, err)
}

// changes computes the minimal modification from the entry as stored to
// the record to write: untouched attributes are not sent, changed ones are
// replaced, emptied ones replaced by no values, which deletes them and,
// unlike a Delete, is no error if a hand edit already removed them (RFC
// 4511 §4.6). The identity and revision are left to the caller, which
// guards the whole change with the revision.
func (l layout) changes(req *ldap.ModifyRequest, old, next attrs) {
	for _, name := range managedAttrs {
		if name == schema.AttrClientID || name == schema.AttrRevision || slices.Equal(old[name], next[name]) {
			continue
		}
		req.Replace(l.attr(name), next[name])
	}
}
