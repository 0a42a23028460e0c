package iat

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lestrrat-go/jwx/v3/jws/jwsbb"
)

// Multi routes each token to the validator of the issuer it claims to come
// from. Reading "iss" before verification is safe because the chosen
// validator then verifies the token against that issuer's keys only, and
// checks iss again: a lie about the issuer just selects keys that do not
// verify. Routing by iss, instead of trying every issuer's keys, keeps the
// cost of a forged token constant and one issuer's key from ever vouching
// for another issuer's token.
type Multi struct {
	byIssuer map[string]Validator
}

// NewMulti returns a Multi over validators keyed by issuer identifier.
func NewMulti(byIssuer map[string]Validator) (*Multi, error) {
	m := &Multi{byIssuer: make(map[string]Validator, len(byIssuer))}
	for iss, v := range byIssuer {
		if iss == "" || v == nil {
			return nil, fmt.Errorf("iat: multi: issuer %q needs a name and a validator", iss)
		}
		m.byIssuer[iss] = v
	}
	return m, nil
}

// Validate picks the validator by the token's unverified iss; an unknown
// issuer is an invalid token.
func (m *Multi) Validate(ctx context.Context, token string) (Principal, error) {
	iss, err := unverifiedIssuer(token)
	if err != nil {
		return Principal{}, invalid(err)
	}
	v, ok := m.byIssuer[iss]
	if !ok {
		return Principal{}, invalid(fmt.Errorf("unknown issuer %q", iss))
	}
	p, err := v.Validate(ctx, token)
	if err != nil {
		return Principal{}, err
	}
	if p.Issuer != iss {
		// Defence in depth: a validator must not vouch for another issuer.
		return Principal{}, invalid(fmt.Errorf("validator for %q returned issuer %q", iss, p.Issuer))
	}
	return p, nil
}

// unverifiedIssuer base64url-decodes the payload of a compact JWS
// (RFC 7515 §7.1, unpadded per §2) and reads iss, trusting nothing else.
func unverifiedIssuer(token string) (string, error) {
	if len(token) > maxTokenBytes {
		return "", fmt.Errorf("token is %d bytes, more than %d", len(token), maxTokenBytes)
	}
	_, seg, _, err := jwsbb.SplitCompactString(token)
	if err != nil {
		return "", fmt.Errorf("not a compact JWS: %w", err)
	}
	payload, err := base64.RawURLEncoding.DecodeString(string(seg))
	if err != nil {
		return "", fmt.Errorf("payload is not base64url: %w", err)
	}
	// A map, not a struct: encoding/json would also fill a struct field
	// from "ISS" or "Iss", and the claim name is case-sensitive.
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", fmt.Errorf("payload is not a claims object: %w", err)
	}
	var iss string
	if raw, ok := claims["iss"]; ok {
		if err := json.Unmarshal(raw, &iss); err != nil {
			return "", fmt.Errorf("claim iss: %w", err)
		}
	}
	if iss == "" {
		return "", errors.New("token has no iss")
	}
	return iss, nil
}
