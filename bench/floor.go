package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/schema"
)

// floorCommand is the hidden first argument that makes this binary the
// floor: the cheapest HTTP gateway there can be in Go, so a run can tell
// what any gateway costs on the box from what dcrgate adds to it. The floor
// serves the registration and management routes with net/http and, for
// each call, does exactly the raw phase's LDAP work with a pool of the same
// size: no authentication, validation, logging or metrics.
const floorCommand = "floor-server"

// floor is the floor's state: the directory, the entry template and, per
// client, the fixture the raw Modify needs (its revision, its name).
type floor struct {
	tpl     *template
	pool    *connPool
	hasher  credentials.Hasher
	clients sync.Map // client ID -> fixture
}

// runFloor is `bench floor-server`: it serves until interrupted.
func runFloor(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet(floorCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "address to serve on")
	tplPath := fs.String("template", "", "entry template written by the bench")
	dir := directory{BindPassword: os.Getenv(bindPasswordEnv)}
	fs.StringVar(&dir.URL, "ldap-url", "", "directory URL")
	fs.StringVar(&dir.BindDN, "ldap-bind-dn", "", "bind DN")
	poolSize := fs.Int("pool-size", 8, "LDAP connections")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tpl, err := readTemplate(*tplPath)
	if err != nil {
		return err
	}
	dir.BaseDN = tpl.baseDN
	pool, err := newConnPool(dir, *poolSize)
	if err != nil {
		return err
	}
	defer pool.close()
	hasher, err := credentials.NewHasher(benchSecretScheme)
	if err != nil {
		return err
	}
	f := &floor{tpl: tpl, pool: pool, hasher: hasher}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: f.routes(), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// routes mirror dcrgate's, so the same API client drives both.
func (f *floor) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("POST "+registrationPath, f.register)
	mux.HandleFunc("GET "+registrationPath+"/{id}", f.read)
	mux.HandleFunc("PUT "+registrationPath+"/{id}", f.update)
	mux.HandleFunc("DELETE "+registrationPath+"/{id}", f.remove)
	return mux
}

// registrationPath is dcrgate's registration endpoint.
const registrationPath = "/as/clients.oauth2"

// register is the raw Add of a template clone.
func (f *floor) register(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	c := newFixture()
	if err := f.pool.do(func(conn *ldap.Conn) error { return conn.Add(f.tpl.addRequest(c)) }); err != nil {
		floorError(w, err)
		return
	}
	f.clients.Store(c.id, c)
	f.respond(w, r, http.StatusCreated, c, f.tpl.metadata(c))
}

// read is the raw base-scope Search.
func (f *floor) read(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var res *ldap.SearchResult
	err := f.pool.do(func(conn *ldap.Conn) (err error) { res, err = conn.Search(f.tpl.searchRequest(id)); return err })
	if err == nil && len(res.Entries) != 1 {
		err = fmt.Errorf("search %s: %d entries", id, len(res.Entries))
	}
	if err != nil {
		floorError(w, err)
		return
	}
	f.respond(w, r, http.StatusOK, fixture{id: id}, res.Entries[0].GetAttributeValue(schema.AttrMetadata))
}

// update is the raw rotating Modify, with a new secret hashed as the raw
// phase hashes one.
func (f *floor) update(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	next := f.fixture(r.PathValue("id"))
	hash, err := f.hasher.Hash(credentials.NewSecret())
	if err != nil {
		floorError(w, err)
		return
	}
	req := f.tpl.modifyRequest(&next, hash)
	if err := f.pool.do(func(conn *ldap.Conn) error { return conn.Modify(req) }); err != nil {
		floorError(w, err)
		return
	}
	f.clients.Store(next.id, next)
	f.respond(w, r, http.StatusOK, next, f.tpl.metadata(next))
}

// remove is the raw Delete.
func (f *floor) remove(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := f.pool.do(func(conn *ldap.Conn) error { return conn.Del(ldap.NewDelRequest(f.tpl.dn(id), nil)) }); err != nil {
		floorError(w, err)
		return
	}
	f.clients.Delete(id)
	w.WriteHeader(http.StatusNoContent)
}

// fixture is the state of client id as the floor last wrote it; a client
// the bench added with raw LDAP is at its first revision.
func (f *floor) fixture(id string) fixture {
	if c, ok := f.clients.Load(id); ok {
		return c.(fixture)
	}
	return fixture{id: id, rev: 1}
}

// respond writes the client's stored metadata with the members dcrgate
// adds to it (RFC 7591 §3.2.1, RFC 7592 §3): a body the size of dcrgate's.
// With a registration access token in c (a registration, a rotation) it
// carries a secret too, a placeholder as long as a real one.
func (f *floor) respond(w http.ResponseWriter, r *http.Request, status int, c fixture, metadata string) {
	head := `{"client_id":"` + c.id + `","client_id_issued_at":` + strconv.FormatInt(time.Now().Unix(), 10)
	if c.rat != "" {
		head += `,"client_secret":"` + placeholderSecret + `","registration_access_token":"` + c.rat + `"`
	}
	head += `,"client_secret_expires_at":0,"registration_client_uri":"http://` + r.Host + registrationPath + "/" + c.id + `"`
	if rest, ok := strings.CutPrefix(metadata, "{"); ok && rest != "}" {
		head += "," + rest
	} else {
		head += "}"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, head)
}

// placeholderSecret is as long as a client secret dcrgate issues (256 bits
// in unpadded base64url).
var placeholderSecret = strings.Repeat("s", len(credentials.NewSecret()))

func floorError(w http.ResponseWriter, err error) {
	http.Error(w, err.Error(), http.StatusInternalServerError)
}

// templateFile is a template as the bench hands it to the floor process.
type templateFile struct {
	Attrs  []templateAttr `json:"attrs"`
	Marker string         `json:"marker"`
	ID     string         `json:"id"`
	BaseDN string         `json:"base_dn"`
}

type templateAttr struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// write saves t to path for the floor process.
func (t *template) write(path string) error {
	tf := templateFile{Marker: t.marker, ID: t.id, BaseDN: t.baseDN}
	for _, a := range t.attrs {
		tf.Attrs = append(tf.Attrs, templateAttr{Name: a.Name, Values: a.Values})
	}
	raw, err := json.Marshal(tf)
	if err != nil {
		return err
	}
	return os.WriteFile(path, raw, 0o600)
}

// readTemplate loads what template.write saved.
func readTemplate(path string) (*template, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var tf templateFile
	if err := json.Unmarshal(raw, &tf); err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	e := &ldap.Entry{}
	for _, a := range tf.Attrs {
		e.Attributes = append(e.Attributes, ldap.NewEntryAttribute(a.Name, a.Values))
	}
	return newTemplate(e, tf.ID, tf.Marker, tf.BaseDN), nil
}
