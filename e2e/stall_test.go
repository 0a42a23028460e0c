package e2e

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
)

// held is what one developer holds of its client: the newest credentials
// it has actually received.
type held struct {
	id, secret, token string
}

// stallRun counts what the callers saw while the directory stalled.
type stallRun struct {
	mu      sync.Mutex
	slowest time.Duration
	// statuses counts answers by status code; transport errors are 0.
	statuses map[int]int
	// registered are the clients whose 201 reached their caller.
	registered int
}

func (r *stallRun) saw(status int, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.statuses[status]++
	r.slowest = max(r.slowest, took)
}

// manage sends one GET or PUT for c and keeps the credentials of a 200.
func (r *stallRun) manage(t *testing.T, gw *gateway, c *held, put bool) {
	method, body := "GET", any(nil)
	if put {
		method, body = "PUT", map[string]any{"client_id": c.id, "redirect_uris": []string{"https://app.example.com/cb"},
			"client_name": fmt.Sprintf("renamed at %d", time.Now().UnixNano())}
	}
	start := time.Now()
	res, err := send(method, gw.endpoint+"/"+c.id, c.token, body)
	r.saw(res.status, time.Since(start))
	if err == nil && res.status == http.StatusOK {
		c.token = res.str("registration_access_token")
		if s := res.str("client_secret"); s != "" {
			c.secret = s
		}
	}
}

// hangUp sends a rotating GET for c and closes the connection without
// reading the answer: the rotation may be applied, the answer is lost.
func hangUp(gw *gateway, c *held) {
	u, _ := url.Parse(gw.endpoint)
	conn, err := net.DialTimeout("tcp", u.Host, time.Second)
	if err != nil {
		return
	}
	fmt.Fprintf(conn, "GET %s/%s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", u.Path, c.id, u.Host, c.token)
	_ = conn.Close()
}

// TestDirectoryStall is the bad day of issue 10, end to end: 16
// developers loop GET (which rotates) or PUT on their own client, keeping
// the newest credentials they received, one more keeps registering, and
// two hang up on their requests; slapd is frozen (SIGSTOP) for 10 s, then
// thawed. Afterwards every client still has a working registration access
// token and a secret that binds, no registration answered with an error
// is left in the directory, and no request took much longer than
// ldap.timeout.
func TestDirectoryStall(t *testing.T) {
	const timeout = 2 * time.Second // startServe's ldap.timeout
	srv := slapdtest.Start(t)
	issuer := newIssuer(t)
	gw := startServe(t, srv, issuer)
	t.Cleanup(func() { _ = syscall.Kill(srv.Pid(), syscall.SIGCONT) })
	dir := directory{t: t, srv: srv}

	clients := make([]*held, 18)
	for i := range clients {
		reg := call(t, "POST", gw.endpoint, issuer.mint(t, "team-a", "dcr"), map[string]any{"redirect_uris": []string{"https://app.example.com/cb"}})
		wantStatus(t, "register", reg, 201)
		clients[i] = &held{reg.str("client_id"), reg.str("client_secret"), reg.str("registration_access_token")}
	}
	run := &stallRun{statuses: map[int]int{}}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			for !stop.Load() {
				if i >= 16 {
					hangUp(gw, c)
					time.Sleep(50 * time.Millisecond)
					continue
				}
				run.manage(t, gw, c, i%2 == 1)
			}
		})
	}
	registrar := issuer.mint(t, "registrar", "dcr")
	wg.Go(func() {
		for !stop.Load() {
			start := time.Now()
			res, _ := send("POST", gw.endpoint, registrar, map[string]any{"redirect_uris": []string{"https://app.example.com/cb"}})
			run.saw(res.status, time.Since(start))
			if res.status == http.StatusCreated {
				run.mu.Lock()
				run.registered++
				run.mu.Unlock()
			}
		}
	})

	time.Sleep(2 * time.Second)
	if err := syscall.Kill(srv.Pid(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Second)
	if err := syscall.Kill(srv.Pid(), syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	stop.Store(true)
	wg.Wait()
	t.Logf("answers by status: %v; slowest %s; %d registrations answered 201", run.statuses, run.slowest, run.registered)

	if run.statuses[http.StatusServiceUnavailable] == 0 {
		t.Fatal("no request saw the stall: the test did not test anything")
	}
	if run.statuses[http.StatusUnauthorized] > 0 || run.statuses[http.StatusInternalServerError] > 0 {
		t.Errorf("answers during the stall: %v; want only 200, 201 and 503", run.statuses)
	}
	if run.slowest > timeout+time.Second {
		t.Errorf("the slowest request took %s with ldap.timeout %s", run.slowest, timeout)
	}
	for i, c := range clients {
		res := call(t, "GET", gw.endpoint+"/"+c.id, c.token, nil)
		if res.status != http.StatusOK {
			t.Errorf("client %d is locked out after the stall: %d %v", i, res.status, res.body)
			continue
		}
		c.token, c.secret = res.str("registration_access_token"), res.str("client_secret")
		dir.wantBind(c.id, c.secret, true)
	}
	// Registrations answered 503 are withdrawn once the directory answers.
	deadline := time.Now().Add(30 * time.Second)
	for n := dir.owned("registrar"); n != run.registered; n = dir.owned("registrar") {
		if time.Now().After(deadline) {
			t.Fatalf("the directory holds %d of registrar's clients, but %d registrations were answered 201", n, run.registered)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if warns := strings.Count(gw.logs.String(), "level=WARN"); warns > 10 {
		t.Errorf("%d warnings logged for one outage", warns)
	}
}

// send is call without failing the test on a transport error, which a
// stalled gateway may cause; the reply's status is then 0.
func send(method, target, bearer string, body any) (reply, error) {
	req, err := request(method, target, bearer, body)
	if err != nil {
		return reply{}, err
	}
	res, err := stallClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	return decodeReply(res)
}

// stallClient gives up well after any answer dcrgate should give.
var stallClient = &http.Client{Timeout: 30 * time.Second}

// owned counts the clients of an owner subject in the directory.
func (d directory) owned(subject string) int {
	d.t.Helper()
	c := d.conn()
	defer c.Close()
	res, err := c.SearchWithPaging(ldap.NewSearchRequest(d.srv.BaseDN, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false,
		"(dcrOwnerSubject="+ldap.EscapeFilter(subject)+")", []string{"1.1"}, nil), 500)
	if err != nil {
		d.t.Fatal(err)
	}
	return len(res.Entries)
}
