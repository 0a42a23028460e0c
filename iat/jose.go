package iat

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws/jwsbb"
)

// maxTokenBytes bounds what is parsed at all: real access tokens are a few
// kilobytes, and nothing larger deserves base64 and JSON work.
const maxTokenBytes = 16 << 10

// maxKeyIDBytes bounds the kid, which ends up in error messages and logs.
const maxKeyIDBytes = 256

// keyFamily is what a verification key must be for one algorithm.
type keyFamily struct {
	kty jwa.KeyType
	crv string // EC and OKP only
}

// allowedAlgs are the only JWS algorithms accepted (RFC 8725 §3.1: the
// verifier, not the token, decides). Only asymmetric ones: "none" would be
// no signature at all, and HMAC would let anyone who knows the issuer's
// public key forge tokens if a public key were ever used as a secret
// (RFC 8725 §2.1). The curve is fixed by the algorithm (RFC 7518 §3.4,
// RFC 8037 §3.1), so a P-384 key cannot verify an ES256 token.
var allowedAlgs = map[string]keyFamily{
	"RS256": {kty: jwa.RSA()}, "RS384": {kty: jwa.RSA()}, "RS512": {kty: jwa.RSA()},
	"PS256": {kty: jwa.RSA()}, "PS384": {kty: jwa.RSA()}, "PS512": {kty: jwa.RSA()},
	"ES256": {kty: jwa.EC(), crv: "P-256"},
	"ES384": {kty: jwa.EC(), crv: "P-384"},
	"ES512": {kty: jwa.EC(), crv: "P-521"},
	"EdDSA": {kty: jwa.OKP(), crv: "Ed25519"},
}

// header is what dcrgate reads from the JOSE header before it trusts
// anything: the algorithm, which key, and what kind of token.
type header struct {
	alg jwa.SignatureAlgorithm
	kid string
	// typ is the "typ" in lower case without "application/", "" if absent.
	typ string
}

// parseHeader reads and checks the protected header of a compact JWS
// (RFC 7515 §7.1) without verifying anything.
func parseHeader(token string) (header, error) {
	if len(token) > maxTokenBytes {
		return header{}, fmt.Errorf("token is %d bytes, more than %d", len(token), maxTokenBytes)
	}
	seg, _, _, err := jwsbb.SplitCompactString(token)
	if err != nil {
		return header{}, fmt.Errorf("not a compact JWS: %w", err)
	}
	h := jwsbb.HeaderParseCompact(seg)
	alg, err := headerAlg(h)
	if err != nil {
		return header{}, err
	}
	typ, err := checkType(h)
	if err != nil {
		return header{}, err
	}
	kid, err := jwsbb.HeaderGetString(h, "kid")
	if err != nil || kid == "" {
		// Without a kid the only way to verify is to try every key,
		// which we never do.
		return header{}, fmt.Errorf("header has no kid: %w", orMissing(err))
	}
	if len(kid) > maxKeyIDBytes {
		return header{}, fmt.Errorf("kid is %d bytes, more than %d", len(kid), maxKeyIDBytes)
	}
	return header{alg: alg, kid: kid, typ: typ}, nil
}

func headerAlg(h jwsbb.Header) (jwa.SignatureAlgorithm, error) {
	name, err := jwsbb.HeaderGetString(h, "alg")
	if err != nil {
		return jwa.SignatureAlgorithm{}, fmt.Errorf("header alg: %w", err)
	}
	if _, ok := allowedAlgs[name]; !ok {
		return jwa.SignatureAlgorithm{}, fmt.Errorf("algorithm %q is not allowed", name)
	}
	alg, ok := jwa.LookupSignatureAlgorithm(name)
	if !ok {
		return jwa.SignatureAlgorithm{}, fmt.Errorf("algorithm %q is not supported", name)
	}
	return alg, nil
}

// checkType accepts an absent "typ", "JWT" (RFC 7519 §5.1) and "at+jwt"
// (RFC 9068 §2.1), with or without the "application/" prefix and in any
// case (RFC 7515 §4.1.9). Explicitly typed JWTs of other kinds, such as
// "logout+jwt" or "dpop+jwt", are meant for something else and must not be
// accepted as access tokens (RFC 8725 §3.11). It returns the normalised
// type, "" when absent.
func checkType(h jwsbb.Header) (string, error) {
	typ, err := jwsbb.HeaderGetString(h, "typ")
	if errors.Is(err, jwsbb.ErrHeaderNotFound()) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("header typ: %w", err)
	}
	norm := strings.TrimPrefix(strings.ToLower(typ), "application/")
	switch norm {
	case "jwt", typeATJWT:
		return norm, nil
	}
	return "", fmt.Errorf("token type %q is not accepted", typ)
}

// typeATJWT is the "typ" of RFC 9068 §2.1 JWT access tokens.
const typeATJWT = "at+jwt"

// Algorithms lists the JWS algorithms dcrgate can accept, for
// configuration checks; a configuration may narrow it per issuer.
func Algorithms() []string {
	return slices.Sorted(maps.Keys(allowedAlgs))
}

func orMissing(err error) error {
	if err == nil {
		return errors.New("empty")
	}
	return err
}

// checkKey reports whether key may verify a token signed with alg
// (RFC 8725 §3.1): a public signing key of the algorithm's family, whose own
// "alg", when the JWKS states it, names exactly this algorithm (RFC 7517
// §4.4), and whose "use", when stated, is "sig" (RFC 7517 §4.2).
func checkKey(key jwk.Key, alg jwa.SignatureAlgorithm) error {
	if ka, ok := key.Algorithm(); ok && ka.String() != alg.String() {
		return fmt.Errorf("key is for %s, token is signed %s", ka, alg)
	}
	if use, ok := key.KeyUsage(); ok && use != "sig" {
		return fmt.Errorf("key use is %q, not sig", use)
	}
	want := allowedAlgs[alg.String()]
	if key.KeyType() != want.kty {
		return fmt.Errorf("%s key cannot verify %s", key.KeyType(), alg)
	}
	if crv := keyCurve(key); crv != want.crv {
		return fmt.Errorf("key curve %q cannot verify %s", crv, alg)
	}
	return checkPublic(key)
}

// keyCurve is the "crv" of EC and OKP keys, "" for others.
func keyCurve(key jwk.Key) string {
	k, ok := key.(interface {
		Crv() (jwa.EllipticCurveAlgorithm, bool)
	})
	if !ok {
		return ""
	}
	crv, _ := k.Crv()
	return crv.String()
}

// checkPublic refuses private keys: a JWKS that publishes one is broken,
// and whatever it signs is forgeable by anyone who fetched it. Every jwx
// private key type (RSA, EC, OKP) has the private exponent/scalar D.
func checkPublic(key jwk.Key) error {
	if _, private := key.(interface{ D() ([]byte, bool) }); private {
		return errors.New("the JWKS publishes a private key")
	}
	return nil
}
