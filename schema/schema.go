// Package schema is the directory schema dcrgate ships: one Go definition of
// the dcr* attribute types and the dcrClient object class, rendered into each
// directory's own format by a Dialect. The renderings are committed under
// openldap/ (and later one folder per dialect) and embedded in the binary; a
// test fails when a committed file no longer matches the definition, so the
// files can never drift from the code that writes entries.
//
// OIDs live under a UUID arc (X.667, 2.25.<uuid>): no registration is needed
// and they never collide. An OID, once published, is never renumbered or
// reused; schema changes only add.
package schema

import "strconv"

// Arc is the root OID of everything dcrgate defines.
const Arc = "2.25.71491115520463514838077391917685742528"

// Sub-arcs of Arc, one per kind of schema element.
const (
	attributeArc   = Arc + ".1"
	objectClassArc = Arc + ".2"
)

// Syntax OIDs (RFC 4517 §3.3).
const (
	SyntaxBoolean         = "1.3.6.1.4.1.1466.115.121.1.7"
	SyntaxDirectoryString = "1.3.6.1.4.1.1466.115.121.1.15"
	SyntaxGeneralizedTime = "1.3.6.1.4.1.1466.115.121.1.24"
	SyntaxIA5String       = "1.3.6.1.4.1.1466.115.121.1.26"
	SyntaxInteger         = "1.3.6.1.4.1.1466.115.121.1.27"
	SyntaxOctetString     = "1.3.6.1.4.1.1466.115.121.1.40"
)

// Attribute names, used by the stores that write entries so that a rename
// here is a compile error there.
const (
	AttrClientID                = "dcrClientId"
	AttrMetadata                = "dcrMetadata"
	AttrRedirectURI             = "dcrRedirectURI"
	AttrGrantType               = "dcrGrantType"
	AttrResponseType            = "dcrResponseType"
	AttrScope                   = "dcrScope"
	AttrTokenEndpointAuthMethod = "dcrTokenEndpointAuthMethod"
	AttrSoftwareID              = "dcrSoftwareId"
	AttrSoftwareVersion         = "dcrSoftwareVersion"
	AttrClientName              = "dcrClientName"
	AttrOwnerIssuer             = "dcrOwnerIssuer"
	AttrOwnerSubject            = "dcrOwnerSubject"
	AttrIssuedAt                = "dcrIssuedAt"
	AttrSecretExpiresAt         = "dcrSecretExpiresAt"
	AttrExpiresAt               = "dcrExpiresAt"
	AttrDisabled                = "dcrDisabled"
	AttrRevision                = "dcrRevision"
	AttrRegistrationTokenHash   = "dcrRegistrationTokenHash"
	AttrRetainedSecret          = "dcrRetainedSecret"
	AttrOwnerTokenID            = "dcrOwnerTokenId"
	AttrSecretHash              = "dcrSecretHash"
	AttrPreviousTokenHash       = "dcrPreviousTokenHash"
	AttrPreviousTokenExpiresAt  = "dcrPreviousTokenExpiresAt"
	AttrOwnerPrincipal          = "dcrOwnerPrincipal"
	AttrSoftwareStatement       = "dcrSoftwareStatement"
	AttrSuspendedSecret         = "dcrSuspendedSecret"
	AttrLastUsedAt              = "dcrLastUsedAt"
	AttrDefaultedMetadata       = "dcrDefaultedMetadata"
	AttrDisabledReason          = "dcrDisabledReason"
	// AttrUserPassword is the standard attribute (RFC 4519 §2.41) that holds
	// the client secret hashes, so a directory bind as the client's DN checks
	// the secret.
	AttrUserPassword = "userPassword"

	// ClassClient is the structural object class of a client entry.
	ClassClient = "dcrClient"
)

// AttributeType is one attribute type definition (RFC 4512 §4.1.2).
type AttributeType struct {
	// Number is the last OID arc under Arc.1; never changed once published.
	Number   int
	Name     string
	Desc     string
	Syntax   string
	Equality string
	Ordering string
	Substr   string
	// SingleValue is true for attributes that hold at most one value.
	SingleValue bool
	// Indexed marks the attributes the gateway itself searches on: every
	// directory should keep an equality index on them.
	Indexed bool
	// Confidential marks attributes holding credential hashes, which only
	// the gateway and the authorization server may read (Active Directory's
	// confidential searchFlags bit; an ACL elsewhere).
	Confidential bool
}

// OID is the attribute type's full object identifier.
func (a AttributeType) OID() string { return attributeArc + "." + strconv.Itoa(a.Number) }

// ObjectClass is one object class definition (RFC 4512 §4.1.1).
type ObjectClass struct {
	// Number is the last OID arc under Arc.2; never changed once published.
	Number int
	Name   string
	Desc   string
	Sup    string
	// Kind is STRUCTURAL, AUXILIARY or ABSTRACT.
	Kind string
	Must []string
	May  []string
}

// OID is the object class's full object identifier.
func (o ObjectClass) OID() string { return objectClassArc + "." + strconv.Itoa(o.Number) }

// Schema is a named set of definitions, the input of every Dialect.
type Schema struct {
	// Name names the schema where a directory needs one (cn=<Name> in
	// OpenLDAP's cn=schema,cn=config).
	Name           string
	AttributeTypes []AttributeType
	ObjectClasses  []ObjectClass
}

// Attribute returns the attribute type called name, if it is defined.
func (s Schema) Attribute(name string) (AttributeType, bool) {
	for _, a := range s.AttributeTypes {
		if a.Name == name {
			return a, true
		}
	}
	return AttributeType{}, false
}

// EqualityIndexes lists the attributes every directory should keep an
// equality index on: objectClass, which every search of the gateway filters
// on, then those marked Indexed, in definition order. One list, so the
// throwaway test directories, `dcrgate directory init` and the docs agree.
func (s Schema) EqualityIndexes() []string {
	names := []string{"objectClass"}
	for _, a := range s.AttributeTypes {
		if a.Indexed {
			names = append(names, a.Name)
		}
	}
	return names
}
