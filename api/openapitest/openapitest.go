// Package openapitest checks HTTP exchanges against dcrgate's OpenAPI
// document (api/openapi.json) with kin-openapi, so that the api tests, which
// drive the gin engine in process, and the e2e tests, which drive the built
// binary, hold the same traffic to the same contract.
package openapitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Document is a loaded, validated OpenAPI document and its router.
type Document struct {
	doc    *openapi3.T
	router routers.Router
}

// Load parses data, validates it as an OpenAPI 3.1 document and builds the
// router that finds the operation of a request.
func Load(data []byte) (*Document, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("loading the document: %w", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		return nil, fmt.Errorf("the document is OpenAPI %s, not 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("the document is not valid OpenAPI: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &Document{doc: doc, router: router}, nil
}

// Spec is the loaded document, for tests that inspect it.
func (d *Document) Spec() *openapi3.T { return d.doc }

// Exchange is one request and its response, with both bodies read.
type Exchange struct {
	Request     *http.Request
	RequestBody []byte
	Status      int
	Header      http.Header
	Body        []byte
}

// ErrNoOperation means the document has no operation for the request's
// method and path.
var ErrNoOperation = errors.New("no operation in the document")

// CheckRequest reports whether x's request is one the document describes:
// an operation for its method and path, its path parameters, its bearer
// token and its body. nil means it conforms.
func (d *Document) CheckRequest(x Exchange) error {
	in, err := d.input(x)
	if err != nil {
		return err
	}
	return openapi3filter.ValidateRequest(context.Background(), in)
}

// CheckResponse reports whether x's response is one the document allows:
// a status the operation documents, with its headers and body. A request
// the document has no operation for is held to what the document's
// description promises for it: 404 or 405 (with Allow) and an error body.
func (d *Document) CheckResponse(x Exchange) error {
	in, err := d.input(x)
	if errors.Is(err, ErrNoOperation) {
		return d.checkOutside(x)
	}
	if err != nil {
		return err
	}
	return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 x.Status,
		Header:                 x.Header,
		Body:                   io.NopCloser(bytes.NewReader(x.Body)),
		Options:                in.Options,
	})
}

// input finds x's operation and prepares its validation.
func (d *Document) input(x Exchange) (*openapi3filter.RequestValidationInput, error) {
	req := x.Request.Clone(context.Background())
	req.Body = io.NopCloser(bytes.NewReader(x.RequestBody))
	route, params, err := d.router.FindRoute(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s: %v", ErrNoOperation, req.Method, req.URL.Path, err)
	}
	return &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: options}, nil
}

// options validate strictly: a status the operation does not document is
// an error, every problem is reported, and "uri" values are checked.
var options = &openapi3filter.Options{
	IncludeResponseStatus: true,
	MultiError:            true,
	AuthenticationFunc:    bearerPresent,
	SchemaValidationOptions: []openapi3.SchemaValidationOption{
		openapi3.WithStringFormatValidator("uri", openapi3.NewCallbackValidator(absoluteURI)),
	},
}

// bearerPresent is the document's view of its bearer schemes: a request
// conforms when it carries a bearer token. Whether the token is good is
// the gateway's business, answered by a documented 401.
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	scheme := in.SecurityScheme
	if scheme.Type != "http" || !strings.EqualFold(scheme.Scheme, "bearer") {
		return in.NewError(fmt.Errorf("unexpected security scheme %s %s", scheme.Type, scheme.Scheme))
	}
	kind, token, _ := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !strings.EqualFold(kind, "Bearer") || strings.TrimSpace(token) == "" {
		return in.NewError(errors.New("no bearer token"))
	}
	return nil
}

// absoluteURI is JSON Schema's "uri" format: an absolute URI (RFC 3986 §4.3).
func absoluteURI(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if !u.IsAbs() {
		return fmt.Errorf("%q is not an absolute URI", s)
	}
	return nil
}

// checkOutside holds an answer to a request outside the document to the
// document's description: 404 not_found, or 405 invalid_request with the
// methods the path does serve in Allow, and an error body either way.
func (d *Document) checkOutside(x Exchange) error {
	var want string
	switch x.Status {
	case http.StatusNotFound:
		want = "not_found"
	case http.StatusMethodNotAllowed:
		want = "invalid_request"
		if x.Header.Get("Allow") == "" {
			return errors.New("a 405 without Allow")
		}
	default:
		return fmt.Errorf("status %d for a request outside the document, want 404 or 405", x.Status)
	}
	if err := d.checkCommonHeaders(x.Header); err != nil {
		return err
	}
	if ct := x.Header.Get("Content-Type"); ct != "application/json" {
		return fmt.Errorf("Content-Type %q, want application/json", ct)
	}
	if err := d.CheckError(x.Body); err != nil {
		return err
	}
	var body struct{ Error string }
	if err := json.Unmarshal(x.Body, &body); err != nil || body.Error != want {
		return fmt.Errorf("error %q, want %q", body.Error, want)
	}
	return nil
}

// CheckError validates body against the document's Error schema.
func (d *Document) CheckError(body []byte) error {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("error body is not JSON: %w", err)
	}
	schema := d.doc.Components.Schemas["Error"].Value
	return schema.VisitJSON(v, openapi3.EnableJSONSchema2020())
}

// commonHeaders are the headers the document requires on every response.
var commonHeaders = []string{"Cache-Control", "Pragma", "X-Content-Type-Options", "X-Request-Id"}

// checkCommonHeaders holds h to the document's definitions of commonHeaders.
func (d *Document) checkCommonHeaders(h http.Header) error {
	for _, name := range commonHeaders {
		value := h.Get(name)
		if value == "" {
			return fmt.Errorf("no %s header", name)
		}
		schema := d.doc.Components.Headers[name].Value.Schema.Value
		if err := schema.VisitJSON(value, openapi3.EnableJSONSchema2020()); err != nil {
			return fmt.Errorf("header %s: %w", name, err)
		}
	}
	return nil
}
