package e2e

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDevCommand runs the README's first command the way a new user does and
// follows the printed instructions: source the two variables, register. A
// listener on every address (":0") still prints, and issues tokens for, an
// address that works.
func TestDevCommand(t *testing.T) {
	for _, listen := range []string{"127.0.0.1:0", ":0"} {
		t.Run(listen, func(t *testing.T) { testDev(t, listen) })
	}
}

func testDev(t *testing.T, listen string) {
	cmd := exec.Command(binary, "dev", "--listen", listen)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	vars := readBanner(t, stdout)
	endpoint, token := vars["DCRGATE_REGISTRATION_ENDPOINT"], vars["DCRGATE_INITIAL_ACCESS_TOKEN"]
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") || !strings.HasSuffix(endpoint, "/as/clients.oauth2") || token == "" {
		t.Fatalf("banner: %v", vars)
	}
	if !strings.Contains(vars["curl"], "$DCRGATE_REGISTRATION_ENDPOINT") {
		t.Fatalf("no curl line in the banner: %v", vars)
	}
	reg := call(t, "POST", endpoint, token, map[string]any{"client_name": "My App", "redirect_uris": []string{"http://127.0.0.1:3000/callback"}})
	wantStatus(t, "register in dev mode", reg, 201)
	got := call(t, "GET", reg.str("registration_client_uri"), reg.str("registration_access_token"), nil)
	wantStatus(t, "read in dev mode", got, 200)
	wantStatus(t, "register with a forged token", call(t, "POST", endpoint, token+"x", map[string]any{"redirect_uris": []string{"https://a.example/cb"}}), 401)
	// Metadata documents are on, behind the production guard: a loopback
	// document is refused before anything is fetched.
	local := call(t, "POST", endpoint+"/metadata-document", token, map[string]any{"client_id": "https://127.0.0.1/client.json"})
	wantStatus(t, "a loopback metadata document in dev mode", local, 400)
	if !strings.Contains(local.str("error_description"), "not one dcrgate may connect to") {
		t.Fatalf("loopback metadata document: %v", local.body)
	}
}

// readBanner reads the variables and the curl line dev prints on start.
func readBanner(t *testing.T, r interface{ Read([]byte) (int, error) }) map[string]string {
	t.Helper()
	vars := map[string]string{}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 64<<10)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("dev exited; banner so far: %v", vars)
			}
			if k, v, found := strings.Cut(line, "="); found && strings.HasPrefix(k, "DCRGATE_") {
				vars[k] = v
			}
			if strings.HasPrefix(line, "# curl ") {
				vars["curl"] = line
				return vars
			}
		case <-timeout:
			t.Fatalf("no banner from dev within 15s: %v", vars)
		}
	}
}
