package e2e

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/dcrgate/dcrgate/api"
	"github.com/dcrgate/dcrgate/api/openapitest"
	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
)

// contract holds every exchange of a run with the binary to the committed
// OpenAPI document.
type contract struct {
	t   *testing.T
	doc *openapitest.Document
}

func newContract(t *testing.T) contract {
	t.Helper()
	doc, err := openapitest.Load(api.OpenAPIDocument())
	if err != nil {
		t.Fatal(err)
	}
	return contract{t: t, doc: doc}
}

// call is the package's call, with the request held to the document
// (conforms says whether it is one the document describes) and the answer
// held to it always; the answer must have status.
func (c contract) call(step, method, url, bearer string, body any, status int, conforms bool) reply {
	c.t.Helper()
	req, err := request(method, url, bearer, body)
	if err != nil {
		c.t.Fatal(err)
	}
	x := openapitest.Exchange{Request: req, RequestBody: requestBody(c.t, req)}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s: %v", step, err)
	}
	if x.Body, err = io.ReadAll(res.Body); err != nil {
		c.t.Fatalf("%s: %v", step, err)
	}
	res.Body.Close()
	x.Status, x.Header = res.StatusCode, res.Header
	switch err := c.doc.CheckRequest(x); {
	case conforms && err != nil:
		c.t.Errorf("%s: the request does not conform to the document: %v", step, err)
	case !conforms && err == nil:
		c.t.Errorf("%s: the document accepts a request it should refuse", step)
	}
	if err := c.doc.CheckResponse(x); err != nil {
		c.t.Errorf("%s: the %d answer does not conform to the document: %v\n%s", step, x.Status, err, x.Body)
	}
	res.Body = io.NopCloser(bytes.NewReader(x.Body))
	out, err := decodeReply(res)
	if err != nil {
		c.t.Fatalf("%s: %v", step, err)
	}
	wantStatus(c.t, step, out, status)
	return out
}

// requestBody returns a copy of req's body, which stays unread.
func requestBody(t *testing.T, req *http.Request) []byte {
	t.Helper()
	if req.GetBody == nil {
		return nil
	}
	rd, err := req.GetBody()
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestServeConformsToOpenAPI runs a client's life through the built binary
// over slapd — the errors a caller meets on the way, a gateway refusing
// deletes and the directory stopped included — and holds every request and
// every answer to api/openapi.json.
func TestServeConformsToOpenAPI(t *testing.T) {
	c := newContract(t)
	srv := slapdtest.Start(t)
	issuer := newIssuer(t)
	gw := startServe(t, srv, issuer)
	noDelete := startServe(t, srv, issuer, "DCRGATE_MANAGEMENT_ALLOW_CLIENT_DELETE=false")
	root := strings.TrimSuffix(gw.endpoint, api.DocumentedPath)
	iat := issuer.mint(t, "team-a", "dcr")
	app := map[string]any{"redirect_uris": []string{"https://app.example.com/cb"}, "client_name": "E2E App", "client_name#de": "E2E-Anwendung"}

	doc := c.call("the document", "GET", root+api.OpenAPIPath, "", nil, 200, true)
	if doc.str("openapi") != "3.1.0" {
		t.Fatalf("served document: openapi = %q", doc.str("openapi"))
	}
	c.call("register without a token", "POST", gw.endpoint, "", app, 401, false)
	c.call("register without the scope", "POST", gw.endpoint, issuer.mint(t, "team-a", "openid"), app, 403, true)
	c.call("register a redirect URI with a fragment", "POST", gw.endpoint, iat, map[string]any{"redirect_uris": []string{"https://app.example.com/cb#x"}}, 400, true)
	c.call("register too large a body", "POST", gw.endpoint, iat, map[string]any{"client_name": strings.Repeat("x", 70<<10)}, 413, true)

	reg := c.call("register", "POST", gw.endpoint, iat, app, 201, true)
	id, first := reg.str("client_id"), reg.str("registration_access_token")
	got := c.call("read", "GET", gw.endpoint+"/"+id, first, nil, 200, true)
	put := c.call("update", "PUT", gw.endpoint+"/"+id, got.str("registration_access_token"),
		map[string]any{"client_id": id, "redirect_uris": []string{"https://app.example.com/new"}, "client_name": "Renamed"}, 200, true)
	rat := put.str("registration_access_token")
	c.call("read with the token replaced before the last", "GET", gw.endpoint+"/"+id, first, nil, 401, true)
	c.call("update without client_id", "PUT", gw.endpoint+"/"+id, rat, map[string]any{"redirect_uris": []string{"https://app.example.com/cb"}}, 400, false)
	c.call("a method the client path does not serve", "PATCH", gw.endpoint+"/"+id, rat, map[string]any{"client_id": id}, 405, false)
	c.call("an unknown path", "GET", root+"/as/nothing", "", nil, 404, false)
	c.call("delete", "DELETE", gw.endpoint+"/"+id, rat, nil, 204, true)
	c.call("read after delete", "GET", gw.endpoint+"/"+id, rat, nil, 401, true)

	held := c.call("register where deletes are refused", "POST", noDelete.endpoint, iat, app, 201, true)
	c.call("delete where deletes are refused", "DELETE", noDelete.endpoint+"/"+held.str("client_id"), held.str("registration_access_token"), nil, 405, true)

	kept := c.call("register a client for the outage", "POST", gw.endpoint, iat, app, 201, true)
	uri, kat := gw.endpoint+"/"+kept.str("client_id"), kept.str("registration_access_token")
	srv.Stop()
	c.call("register with the directory down", "POST", gw.endpoint, iat, app, 503, true)
	c.call("read with the directory down", "GET", uri, kat, nil, 503, true)
	c.call("update with the directory down", "PUT", uri, kat, map[string]any{"client_id": kept.str("client_id"), "redirect_uris": []string{"https://app.example.com/cb"}}, 503, true)
	c.call("delete with the directory down", "DELETE", uri, kat, nil, 503, true)
}

// TestServeOpenAPIWithRegistrationOff: a gateway that registers nothing
// serves no document either, and says so as the document describes.
func TestServeOpenAPIWithRegistrationOff(t *testing.T) {
	c := newContract(t)
	gw := startServe(t, slapdtest.Start(t), newIssuer(t), "DCRGATE_REGISTRATION_ENABLED=false")
	c.call("the document", "GET", strings.TrimSuffix(gw.endpoint, api.DocumentedPath)+api.OpenAPIPath, "", nil, 404, true)
}
