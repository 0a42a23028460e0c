package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// readyTimeout bounds how long a started gateway may take to answer /readyz.
const readyTimeout = 20 * time.Second

// gateway is one running gateway process: `dcrgate serve`, or the floor.
type gateway struct {
	name      string
	endpoint  string // the registration endpoint
	telemetry string
	cmd       *exec.Cmd
	done      chan struct{}
}

// gatewaySpec is what differs between the processes the tool starts.
type gatewaySpec struct {
	name     string
	ldapURL  string
	rotate   bool
	poolSize int
}

// buildGateway compiles ./cmd/dcrgate into dir, so the tool measures the
// code in this checkout.
func buildGateway(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "dcrgate")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/dcrgate/dcrgate/cmd/dcrgate").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("building dcrgate: %w\n%s", err, out)
	}
	return bin, nil
}

// gatewayConfig is the YAML for one process: registration behind a JWT
// initial access token, management on, info-level logs (the production
// default, so the access log's cost is included).
func gatewayConfig(spec gatewaySpec, dir directory, apiAddr, telemetryAddr, issuer, jwksURL string) string {
	return fmt.Sprintf(`listen: %q
external_url: http://%s
registration:
  enabled: true
  required_scopes: [dcr]
management:
  enabled: true
  rotate_client_secret: %t
  rotate_registration_access_token: %t
initial_access_tokens:
  issuers:
    - issuer: %s
      jwks_uri: %s
ldap:
  urls: [%s]
  bind_dn: %q
  base_dn: %q
  pool_size: %d
  timeout: 10s
metrics:
  listen: %q
log:
  level: info
`, apiAddr, apiAddr, spec.rotate, spec.rotate, issuer, jwksURL, spec.ldapURL, dir.BindDN, dir.BaseDN,
		spec.poolSize, telemetryAddr)
}

// startGateway writes the config into workDir, starts bin and waits until
// /readyz answers.
func startGateway(ctx context.Context, bin, workDir string, spec gatewaySpec, dir directory, issuer, jwksURL string) (*gateway, error) {
	apiAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	telemetryAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(workDir, spec.name+".yaml")
	cfg := gatewayConfig(spec, dir, apiAddr, telemetryAddr, issuer, jwksURL)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--config", path)
	cmd.Env = append(os.Environ(), "DCRGATE_LDAP_BIND_PASSWORD="+dir.BindPassword)
	return startProcess(ctx, spec.name, workDir, cmd, "http://"+apiAddr+registrationPath, "http://"+telemetryAddr)
}

// startProcess starts a gateway process, its output in workDir/<name>.log,
// and waits until telemetry/readyz answers.
func startProcess(ctx context.Context, name, workDir string, cmd *exec.Cmd, endpoint, telemetry string) (*gateway, error) {
	logs, err := os.Create(filepath.Join(workDir, name+".log"))
	if err != nil {
		return nil, err
	}
	defer logs.Close() // the child holds its own descriptor
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	g := &gateway{name: name, endpoint: endpoint, telemetry: telemetry, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(g.done) }()
	if err := g.waitReady(ctx); err != nil {
		g.stop()
		return nil, fmt.Errorf("%s: %w (logs in %s)", name, err, logs.Name())
	}
	return g, nil
}

func (g *gateway) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, g.telemetry+"/readyz", nil)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-g.done:
			return errors.New("exited during start-up")
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop interrupts the process and kills it if it does not exit in time.
func (g *gateway) stop() {
	_ = g.cmd.Process.Signal(os.Interrupt)
	select {
	case <-g.done:
	case <-time.After(10 * time.Second):
		_ = g.cmd.Process.Kill()
		<-g.done
	}
}

// peakRSS is the process's high-water resident set (VmHWM) in bytes.
func (g *gateway) peakRSS() (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", g.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	return vmHWM(string(raw))
}

// vmHWM reads the VmHWM line of a /proc/<pid>/status file.
func vmHWM(status string) (int64, error) {
	for line := range strings.Lines(status) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// freeAddr asks the kernel for an unused loopback address.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// clockTick is the unit of utime and stime in /proc/<pid>/stat: USER_HZ,
// 100 on every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// cpuTime is the CPU time (user + system) the process has used so far.
func (g *gateway) cpuTime() (time.Duration, error) { return processCPU(g.cmd.Process.Pid) }

// processCPU is the CPU time (user + system) process pid has used so far.
func processCPU(pid int) (time.Duration, error) {
	if pid <= 0 {
		return 0, errors.New("no such process")
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return statCPU(string(raw))
}

// statCPU reads utime and stime, fields 14 and 15 of /proc/<pid>/stat. The
// command name (field 2) may hold spaces, so fields are counted after its
// closing parenthesis.
func statCPU(stat string) (time.Duration, error) {
	end := strings.LastIndexByte(stat, ')')
	fields := strings.Fields(stat[end+1:])
	if end < 0 || len(fields) < 13 {
		return 0, errors.New("malformed /proc stat")
	}
	var ticks int64
	for _, f := range fields[11:13] { // fields 14 and 15 overall
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}
