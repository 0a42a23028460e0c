package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/ldapstore/slapdtest"
)

// The README's production section: the block that installs Debian's slapd
// is mirrored (slapdtest's Fresh server is set up as that package sets it
// up); the two after it are run as written.
const (
	readme          = "../README.md"
	mirroredMarker  = "<!-- e2e/readme_test.go mirrors this block"
	runMarker       = "<!-- e2e/readme_test.go runs this block and the next"
	readmeAPIURL    = "http://127.0.0.1:8080"
	readmeLDAPURL   = "ldap://127.0.0.1 "
	readmeRunBudget = 2 * time.Minute
)

// TestREADMEProduction runs "Production in ten commands" on a fresh slapd:
// directory init, a trial key pair, config check, serve, health, then a
// client registered, read, updated, found in the directory and deleted —
// with the repository's dcrgate.yaml. Only addresses change: the test's
// free ports stand in for 8080, 9090 and 389 (through the README's own
// URLs and DCRGATE_* overrides), and sudo runs the command as the test's
// user, whom the fresh slapd lets manage cn=config as Debian lets root.
func TestREADMEProduction(t *testing.T) {
	requireTools(t, "bash", "curl", "jq", "ldapsearch")
	text := readText(t, readme)
	if len(shellBlocks(t, text, mirroredMarker, 1)) != 1 {
		t.Fatal("the README lost the directory's install block")
	}
	blocks := shellBlocks(t, text, runMarker, 2)

	srv := slapdtest.StartWith(t, slapdtest.Options{Fresh: true})
	work := t.TempDir()
	copyFile(t, "../dcrgate.yaml", filepath.Join(work, "dcrgate.yaml"))
	writeFile(t, filepath.Join(work, "admin.pw"), srv.BindPassword)
	apiAddr, telemetryAddr := freeAddr(t), freeAddr(t)
	script := strings.NewReplacer(readmeAPIURL, "http://"+apiAddr, readmeLDAPURL, srv.URL+" ").Replace(strings.Join(blocks, "\n"))

	out, err := runScript(t, work, script,
		"PATH="+shimDir(t)+":"+filepath.Dir(binary)+":"+os.Getenv("PATH"),
		"LDAPURI="+srv.LDAPIURL,
		"DCRGATE_LISTEN="+apiAddr, "DCRGATE_EXTERNAL_URL=http://"+apiAddr,
		"DCRGATE_METRICS_LISTEN="+telemetryAddr, "DCRGATE_LDAP_URLS="+srv.URL)
	serveLog, _ := os.ReadFile(filepath.Join(work, "dcrgate.log"))
	if err != nil {
		t.Fatalf("the README's production section failed: %v\n%s\nserve's log:\n%s", err, out, serveLog)
	}
	for _, want := range []string{"serve will connect", "dcrgate.yaml: ok", "dn: dcrClientId=", "dcrClientName: Renamed", "\n204\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(string(serveLog), "TRIAL") {
		t.Errorf("serve did not warn that it trusts a trial issuer:\n%s", serveLog)
	}
	if strings.Contains(out, "publicly readable") {
		t.Errorf("the README's files are readable by others:\n%s", out)
	}
	if n := clientEntries(t, srv); n != 0 {
		t.Errorf("%d client entries left after the README's delete", n)
	}
}

// requireTools skips without the command-line tools the README uses, or
// fails when CI promised them (DCRGATE_REQUIRE_SLAPD: .ci/run installs them).
func requireTools(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			if os.Getenv(slapdtest.RequireEnv) == "1" {
				t.Fatalf("%s is not installed, and %s=1", name, slapdtest.RequireEnv)
			}
			t.Skipf("%s is not installed", name)
		}
	}
}

// shellBlocks returns the n ```sh blocks that follow marker in text.
func shellBlocks(t *testing.T, text, marker string, n int) []string {
	t.Helper()
	_, rest, ok := strings.Cut(text, marker)
	if !ok {
		t.Fatalf("README: no %q", marker)
	}
	var blocks []string
	for range n {
		var block string
		_, rest, ok = strings.Cut(rest, "```sh\n")
		if ok {
			block, rest, ok = strings.Cut(rest, "```")
		}
		if !ok {
			t.Fatalf("README: fewer than %d sh blocks after %q", n, marker)
		}
		blocks = append(blocks, block)
	}
	return blocks
}

// shimDir holds a sudo that runs its command as the test's user.
func shimDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sudo"), []byte("#!/bin/sh\nexec \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runScript runs script with bash -euo pipefail in dir and returns its
// output. The script leaves serve running in the background: the whole
// process group is killed when the test ends.
func runScript(t *testing.T, dir, script string, env ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), readmeRunBudget)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	t.Cleanup(func() { _ = syscall.Kill(-pgid, syscall.SIGTERM) })
	err := cmd.Wait()
	return out.String(), err
}

// clientEntries counts the entries below the clients' base DN, as the
// database's rootdn.
func clientEntries(t *testing.T, srv *slapdtest.Server) int {
	t.Helper()
	conn := directory{t, srv}.conn()
	defer conn.Close()
	res, err := conn.Search(ldap.NewSearchRequest(srv.BaseDN, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"1.1"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	return len(res.Entries)
}

func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func copyFile(t *testing.T, from, to string) { t.Helper(); writeFile(t, to, readText(t, from)) }

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
