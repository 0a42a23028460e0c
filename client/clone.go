package client

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
)

// Clone returns a deep copy, so a store can hand out records without sharing
// slices or maps with what it keeps.
func (m Metadata) Clone() Metadata {
	c := m
	for _, list := range []*[]string{&c.RedirectURIs, &c.GrantTypes, &c.ResponseTypes, &c.Contacts,
		&c.DefaultACRValues, &c.RequestURIs, &c.PostLogoutRedirectURIs} {
		*list = slices.Clone(*list)
	}
	c.JWKS = bytes.Clone(m.JWKS)
	if m.DefaultMaxAge != nil {
		age := *m.DefaultMaxAge
		c.DefaultMaxAge = &age
	}
	c.Localized = maps.Clone(m.Localized)
	if m.Extensions != nil {
		c.Extensions = make(map[string]json.RawMessage, len(m.Extensions))
		for k, v := range m.Extensions {
			c.Extensions[k] = bytes.Clone(v)
		}
	}
	return c
}
