package client

import (
	"slices"
	"strings"
)

// Grant types.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantImplicit          = "implicit"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantJWTBearer         = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	GrantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
	GrantTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
)

var supportedGrantTypes = []string{
	GrantAuthorizationCode, GrantImplicit, GrantRefreshToken, GrantClientCredentials,
	GrantJWTBearer, GrantDeviceCode, GrantTokenExchange,
}

// responseFamily ties a grant type to the response type values that use it.
// RFC 7591 §2.1: "code" goes with authorization_code, "token" with implicit;
// OpenID Connect Registration §2 adds "id_token" to implicit, and a hybrid
// response type such as "code id_token" needs both grants.
type responseFamily struct {
	grant  string
	values []string
}

var responseFamilies = []responseFamily{
	{grant: GrantAuthorizationCode, values: []string{"code"}},
	{grant: GrantImplicit, values: []string{"token", "id_token"}},
}

// usedBy reports whether the response type rt (space-separated values)
// contains one of the family's values.
func (fam responseFamily) usedBy(rt string) bool {
	return slices.ContainsFunc(strings.Fields(rt), func(v string) bool {
		return slices.Contains(fam.values, v)
	})
}

// normalizeGrantAndResponseTypes fills the defaults and checks that the two
// lists agree (RFC 7591 §2.1): omitted grant_types defaults to
// authorization_code, omitted response_types to code; when only one is given
// the other is derived from it, so {"grant_types":["client_credentials"]}
// gets no response types instead of a contradictory "code".
func (m *Metadata) normalizeGrantAndResponseTypes() error {
	rts, err := checkResponseTypes(m.ResponseTypes)
	if err != nil {
		return err
	}
	m.ResponseTypes = rts
	if m.GrantTypes == nil {
		m.GrantTypes = grantTypesFor(m.ResponseTypes)
	}
	if m.ResponseTypes == nil {
		m.ResponseTypes = responseTypesFor(m.GrantTypes)
	}
	if err := checkGrantTypes(m.GrantTypes); err != nil {
		return err
	}
	return checkGrantsMatchResponses(m.GrantTypes, m.ResponseTypes)
}

// grantTypesFor derives grant_types from response_types: each family used by
// a response type contributes its grant. Without response types it is the
// RFC 7591 §2 default, authorization_code.
func grantTypesFor(responseTypes []string) []string {
	if responseTypes == nil {
		return []string{GrantAuthorizationCode}
	}
	grants := []string{}
	for _, fam := range responseFamilies {
		if slices.ContainsFunc(responseTypes, fam.usedBy) {
			grants = append(grants, fam.grant)
		}
	}
	return grants
}

// responseTypesFor derives response_types from grant_types: "code" when
// authorization_code is there (RFC 7591 §2 default), none otherwise. It never
// guesses an implicit response type ("token" or "id_token" are different
// protocols), so implicit without response_types fails the consistency check.
func responseTypesFor(grantTypes []string) []string {
	if slices.Contains(grantTypes, GrantAuthorizationCode) {
		return []string{"code"}
	}
	return []string{}
}

// checkGrantTypes accepts the supported grant types and refuses an empty
// list: a client must be able to obtain a token somehow.
func checkGrantTypes(grantTypes []string) error {
	if len(grantTypes) == 0 {
		return invalidMetadata("grant_types must not be empty")
	}
	for i, g := range grantTypes {
		if !slices.Contains(supportedGrantTypes, g) {
			return invalidMetadata("grant_types[%d] is not a supported grant type", i)
		}
	}
	return nil
}

// checkResponseTypes accepts response types made of the values code, token
// and id_token, each at most once, separated by single spaces (OAuth 2.0
// Multiple Response Type Encoding Practices §3). Two spellings of the same
// set ("code id_token", "id_token code") count as one, the first kept.
func checkResponseTypes(responseTypes []string) ([]string, error) {
	for i, rt := range responseTypes {
		values := strings.Split(rt, " ")
		for j, v := range values {
			if !slices.Contains([]string{"code", "token", "id_token"}, v) || slices.Contains(values[:j], v) {
				return nil, invalidMetadata("response_types[%d] is not a supported response type", i)
			}
		}
	}
	if responseTypes == nil {
		return nil, nil // absent: derived from grant_types later
	}
	return uniqueBy(responseTypes, responseTypeSet), nil
}

// responseTypeSet is rt's values in a fixed order: the order of values in a
// response type carries no meaning.
func responseTypeSet(rt string) string {
	values := strings.Split(rt, " ")
	slices.Sort(values)
	return strings.Join(values, " ")
}

// checkGrantsMatchResponses is RFC 7591 §2.1's table, both ways: every
// response type needs its grant, and every front-channel grant needs a
// response type. Other grants (refresh_token, client_credentials, ...) do not
// involve the authorization endpoint and combine freely.
func checkGrantsMatchResponses(grantTypes, responseTypes []string) error {
	for _, fam := range responseFamilies {
		hasGrant := slices.Contains(grantTypes, fam.grant)
		for i, rt := range responseTypes {
			if fam.usedBy(rt) && !hasGrant {
				return invalidMetadata("response_types[%d] %q requires the grant type %s in grant_types", i, rt, fam.grant)
			}
		}
		if hasGrant && !slices.ContainsFunc(responseTypes, fam.usedBy) {
			return invalidMetadata("grant type %s requires response_types containing %s",
				fam.grant, strings.Join(fam.values, " or "))
		}
	}
	return nil
}
