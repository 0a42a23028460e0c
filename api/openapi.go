package api

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// OpenAPIPath is where the engine serves the OpenAPI document.
const OpenAPIPath = "/openapi.json"

// DocumentedPath is the registration path openapi.json is written for: the
// default of registration.path. A gateway configured with another path
// serves the document with its own (see openAPIFor).
const DocumentedPath = "/as/clients.oauth2"

// openAPIDocument is the OpenAPI 3.1 document of the registration and
// management API, written by hand: it is a contract, checked against the
// engine by the tests, not a by-product of the code.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument returns the committed document, as written for
// DocumentedPath with management and metadata documents enabled; tests
// validate traffic against it.
func OpenAPIDocument() []byte { return bytes.Clone(openAPIDocument) }

// serveOpenAPI answers GET /openapi.json with the document of what this
// engine serves. It needs no token: the document holds nothing secret, and
// a client needs it before it has any credential.
func serveOpenAPI(cfg Config) gin.HandlerFunc {
	doc, err := openAPIFor(cfg)
	if err != nil {
		// The embedded document is checked by every test run; a broken one
		// is a build that must not start, never a request's fault.
		panic(fmt.Sprintf("api: the embedded OpenAPI document: %v", err))
	}
	return func(c *gin.Context) { c.Data(http.StatusOK, contentTypeJSON, doc) }
}

// openAPIFor returns the document with the paths cfg serves: the
// registration path moved to cfg.Path, the client paths left out when
// management is off and the metadata document path when that is, so that
// a client reading it never calls a path that answers 404. The committed document is returned as is when it already
// says the truth.
func openAPIFor(cfg Config) ([]byte, error) {
	if cfg.Path == DocumentedPath && cfg.ManagementEnabled && cfg.MetadataDocuments && !cfg.AnonymousRegistration {
		return openAPIDocument, nil
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		return nil, err
	}
	var paths map[string]json.RawMessage
	if err := json.Unmarshal(doc["paths"], &paths); err != nil {
		return nil, err
	}
	served := make(map[string]json.RawMessage, len(paths))
	var err error
	for p, item := range paths {
		rest, ours := strings.CutPrefix(p, DocumentedPath)
		switch {
		case !ours:
			served[p] = item
		case rest == "" && cfg.AnonymousRegistration:
			if served[cfg.Path], err = tokenOptional(item); err != nil {
				return nil, err
			}
		case rest == MetadataDocumentPath:
			if cfg.MetadataDocuments {
				served[cfg.Path+rest] = item
			}
		case rest == "" || cfg.ManagementEnabled:
			served[cfg.Path+rest] = item
		}
	}
	if doc["paths"], err = json.Marshal(served); err != nil {
		return nil, err
	}
	return json.MarshalIndent(doc, "", "  ")
}

// tokenOptional makes the initial access token of the registration
// operation in item optional (an empty security requirement), as it is
// where the anonymous profile admits registrations without one.
func tokenOptional(item json.RawMessage) (json.RawMessage, error) {
	var ops map[string]map[string]any
	if err := json.Unmarshal(item, &ops); err != nil {
		return nil, err
	}
	if post, ok := ops["post"]; ok {
		post["security"] = []any{map[string]any{"initialAccessToken": []any{}}, map[string]any{}}
	}
	return json.Marshal(ops)
}
