package schema

// Definition returns the dcrgate schema. Numbers are permanent: append new
// attributes with the next free number, never reorder or reuse one.
//
// The canonical client metadata is the JSON in dcrMetadata; every other dcr*
// attribute is either server-side state or a searchable copy of one metadata
// member, kept so that administrators and the authorization server can filter
// and index without parsing JSON. Every attribute has an EQUALITY rule:
// indexes and deleting a single value both need one.
func Definition() Schema {
	return Schema{
		Name: "dcrgate",
		AttributeTypes: []AttributeType{
			indexed(ia5(1, AttrClientID, "OAuth client_id (RFC 7591 section 3.2.1); the RDN of a client entry", true)),
			jsonDocument(2, AttrMetadata, "canonical client metadata as JSON (RFC 7591 section 2), the source of truth for every copy below"),
			exactString(3, AttrRedirectURI, "searchable copy of redirect_uris, one value per URI", false),
			ia5(4, AttrGrantType, "searchable copy of grant_types", false),
			ia5(5, AttrResponseType, "searchable copy of response_types", false),
			ia5(6, AttrScope, "searchable copy of scope, one value per scope token", false),
			ia5(7, AttrTokenEndpointAuthMethod, "searchable copy of token_endpoint_auth_method", true),
			exactString(8, AttrSoftwareID, "searchable copy of software_id", true),
			exactString(9, AttrSoftwareVersion, "searchable copy of software_version", true),
			{Number: 10, Name: AttrClientName, Syntax: SyntaxDirectoryString, SingleValue: true,
				Equality: "caseIgnoreMatch", Substr: "caseIgnoreSubstringsMatch",
				Desc: "searchable copy of client_name (untagged); matched ignoring case for administrators"},
			exactString(11, AttrOwnerIssuer, "issuer of the initial access token that registered the client", true),
			indexed(exactString(12, AttrOwnerSubject, "subject of the initial access token that registered the client", true)),
			generalizedTime(13, AttrIssuedAt, "when the client was registered (client_id_issued_at)"),
			generalizedTime(14, AttrSecretExpiresAt, "when the current client secret expires (client_secret_expires_at); absent means never"),
			generalizedTime(15, AttrExpiresAt, "when the whole registration lapses; absent means never"),
			{Number: 16, Name: AttrDisabled, Syntax: SyntaxBoolean, Equality: "booleanMatch", SingleValue: true,
				Desc: "TRUE when the client is disabled and must not be issued tokens"},
			{Number: 17, Name: AttrRevision, Syntax: SyntaxInteger, Equality: "integerMatch", Ordering: "integerOrderingMatch",
				SingleValue: true,
				Desc:        "write counter for compare-and-swap: every update deletes value N and adds N+1 in one modify"},
			confidential(ia5(18, AttrRegistrationTokenHash, "SHA-256 of the registration access token (RFC 7592), lowercase hex", true)),
			confidential(ia5(19, AttrRetainedSecret, "a userPassword value kept after a secret rotation, as GeneralizedTime$hash: accepted until that time", false)),
			indexed(ia5(20, AttrOwnerTokenID, "jti of the initial access token that registered the client (SHA-256 hex for opaque tokens); counts registrations per token", true)),
			confidential(ia5(21, AttrSecretHash, "client secret hashes where the directory cannot verify userPassword on bind (Active Directory: a confidential attribute the AS reads)", false)),
			confidential(ia5(22, AttrPreviousTokenHash, "SHA-256 of the registration access token a rotation replaced, still accepted until dcrPreviousTokenExpiresAt so that a lost answer locks no client out", true)),
			generalizedTime(23, AttrPreviousTokenExpiresAt, "when dcrPreviousTokenHash stops being accepted"),
			jsonDocument(24, AttrOwnerPrincipal, "the registering principal beyond issuer, subject and token id, as JSON (client_id, scopes, claims): what the registration policies judge again on every update"),
			jsonDocument(25, AttrSoftwareStatement, "the verified software statement the client was registered with, as JSON (issuer, claims, granted scopes, defaults): values an update cannot change without a new statement"),
			confidential(ia5(26, AttrSuspendedSecret, "the client secret hashes of a disabled client, kept out of userPassword so that the directory refuses its binds; restored when it is enabled", false)),
			generalizedTime(27, AttrLastUsedAt, "when the client was last read or updated through RFC 7592 (to the day), for reaping idle clients"),
			ia5(28, AttrDefaultedMetadata, "names of the metadata members the client configuration defaults filled in, the request having omitted them", false),
			{Number: 29, Name: AttrDisabledReason, Syntax: SyntaxDirectoryString, SingleValue: true, Equality: "caseIgnoreMatch",
				Desc: "why the client is disabled: awaiting approval, or an administrator's note"},
		},
		ObjectClasses: []ObjectClass{{
			Number: 1, Name: ClassClient, Sup: "top", Kind: "STRUCTURAL",
			Desc: "an OAuth client registered through dcrgate (RFC 7591, RFC 7592)",
			Must: []string{AttrClientID},
			May: []string{AttrMetadata, AttrRedirectURI, AttrGrantType, AttrResponseType, AttrScope,
				AttrTokenEndpointAuthMethod, AttrSoftwareID, AttrSoftwareVersion, AttrClientName,
				AttrOwnerIssuer, AttrOwnerSubject, AttrIssuedAt, AttrSecretExpiresAt, AttrExpiresAt,
				AttrDisabled, AttrRevision, AttrRegistrationTokenHash, AttrRetainedSecret, AttrUserPassword,
				AttrOwnerTokenID, AttrSecretHash, AttrPreviousTokenHash, AttrPreviousTokenExpiresAt,
				AttrOwnerPrincipal, AttrSoftwareStatement, AttrSuspendedSecret, AttrLastUsedAt, AttrDefaultedMetadata,
				AttrDisabledReason},
		}},
	}
}

// ia5 defines an ASCII attribute matched exactly: protocol tokens, hashes
// and identifiers whose case is significant.
func ia5(n int, name, desc string, single bool) AttributeType {
	return AttributeType{Number: n, Name: name, Desc: desc, Syntax: SyntaxIA5String,
		Equality: "caseExactIA5Match", SingleValue: single}
}

// exactString defines a UTF-8 attribute matched exactly: URIs and
// identifiers chosen by others, where "A" and "a" are different values.
func exactString(n int, name, desc string, single bool) AttributeType {
	return AttributeType{Number: n, Name: name, Desc: desc, Syntax: SyntaxDirectoryString,
		Equality: "caseExactMatch", Substr: "caseExactSubstringsMatch", SingleValue: single}
}

// generalizedTime defines a single-valued instant that range filters such as
// (dcrExpiresAt<=20260101000000Z) can use, which needs an ORDERING rule.
func generalizedTime(n int, name, desc string) AttributeType {
	return AttributeType{Number: n, Name: name, Desc: desc, Syntax: SyntaxGeneralizedTime,
		Equality: "generalizedTimeMatch", Ordering: "generalizedTimeOrderingMatch", SingleValue: true}
}

// jsonDocument defines a single-valued JSON document kept byte for byte:
// octet strings are neither folded nor re-encoded by any directory.
func jsonDocument(n int, name, desc string) AttributeType {
	return AttributeType{Number: n, Name: name, Desc: desc, Syntax: SyntaxOctetString,
		Equality: "octetStringMatch", SingleValue: true}
}

// indexed marks an attribute the gateway searches on (see
// AttributeType.Indexed).
func indexed(a AttributeType) AttributeType { a.Indexed = true; return a }

// confidential marks an attribute that holds credential hashes (see
// AttributeType.Confidential).
func confidential(a AttributeType) AttributeType { a.Confidential = true; return a }
