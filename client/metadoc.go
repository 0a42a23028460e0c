package client

import (
	"net/url"
	"strings"

	"github.com/dcrgate/dcrgate/credentials"
)

// MaxMetadataDocumentIDLength bounds a URL client ID, so that it fits a
// DN and an index key in every directory dcrgate supports.
const MaxMetadataDocumentIDLength = 255

// IsMetadataDocumentID reports whether id is a client ID that is the URL of
// its Client ID Metadata Document (draft-ietf-oauth-client-id-metadata-
// document §3): https, a host, a path other than "/", no fragment, no user
// information, no "." or ".." path segment — written in the URL characters
// of RFC 3986 only, so it is stored as the IA5 string it is compared as.
func IsMetadataDocumentID(id string) bool {
	if len(id) > MaxMetadataDocumentIDLength || !strings.HasPrefix(id, "https://") || !urlChars(id) {
		return false
	}
	u, err := url.Parse(id)
	if err != nil || u.Host == "" || u.User != nil || strings.Contains(id, "#") {
		return false
	}
	path := u.EscapedPath()
	if path == "" || path == "/" {
		return false
	}
	for _, seg := range strings.Split(path, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// ValidID reports whether id is a client ID dcrgate stores: one it issued
// (credentials.ValidClientID) or a metadata document's URL. Only IDs
// dcrgate issued can be managed through RFC 7592.
func ValidID(id string) bool {
	return credentials.ValidClientID(id) || IsMetadataDocumentID(id)
}

// urlChars reports whether s holds only RFC 3986's unreserved, reserved and
// percent characters.
func urlChars(s string) bool {
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("-._~:/?#[]@!$&'()*+,;=%", c) >= 0) {
			return false
		}
	}
	return true
}
