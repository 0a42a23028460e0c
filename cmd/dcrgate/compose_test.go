package main

import (
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// dockerDir holds the compose stack; compose resolves relative paths from it.
const dockerDir = "../../docker"

// composeFile is the part of docker/compose.yaml the checks read.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Secrets  map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
}

type composeService struct {
	Image string `yaml:"image"`
	Build *struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	} `yaml:"build"`
	Volumes     []string `yaml:"volumes"`
	Restart     string   `yaml:"restart"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

// bindMount is one "./source:/target[:mode]" volume of a service.
type bindMount struct{ source, target string }

// binds are the service's bind mounts; named volumes are left out.
func (s composeService) binds() []bindMount {
	var out []bindMount
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && strings.HasPrefix(parts[0], ".") {
			out = append(out, bindMount{source: parts[0], target: parts[1]})
		}
	}
	return out
}

// mountedAt is the compose-relative source mounted at target, or "".
func (s composeService) mountedAt(target string) string {
	for _, m := range s.binds() {
		if m.target == target {
			return m.source
		}
	}
	return ""
}

// mounting is the target where source is mounted, or "".
func (s composeService) mounting(source string) string {
	for _, m := range s.binds() {
		if path.Clean(m.source) == path.Clean(source) {
			return m.target
		}
	}
	return ""
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	var c composeFile
	if err := yaml.Unmarshal([]byte(readFile(t, filepath.Join(dockerDir, "compose.yaml"))), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// service returns the named service of c, failing the test without it.
func (c composeFile) service(t *testing.T, name string) composeService {
	t.Helper()
	s, ok := c.Services[name]
	if !ok {
		t.Fatalf("compose.yaml has no %s service", name)
	}
	return s
}

// TestComposeFiles: every file compose.yaml names exists — build contexts,
// Dockerfiles and what they COPY (and .dockerignore does not hide it), bind
// mounted configuration — and its secrets live in the folder git and the
// build context both leave out, since developers create them (see the
// comments of compose.yaml).
func TestComposeFiles(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		if s.Build != nil {
			t.Run("ok/build of "+name, func(t *testing.T) { checkBuild(t, s.Build.Context, s.Build.Dockerfile) })
		}
		for _, m := range s.binds() {
			t.Run("ok/mount "+m.source+" of "+name, func(t *testing.T) { mustExist(t, filepath.Join(dockerDir, m.source)) })
		}
	}
	for name, s := range c.Secrets {
		if !strings.HasPrefix(s.File, "./secrets/") {
			t.Errorf("secret %s: %s is outside ./secrets", name, s.File)
		}
	}
	if !slices.Contains(lines(t, filepath.Join(dockerDir, ".gitignore")), "secrets/") {
		t.Error("docker/.gitignore does not ignore secrets/")
	}
	if !ignored(dockerignore(t), "docker/secrets/ldap_admin.txt") {
		t.Error(".dockerignore sends docker/secrets to the build")
	}
}

// checkBuild checks one build: context, Dockerfile and its COPY sources.
func checkBuild(t *testing.T, context, dockerfile string) {
	t.Helper()
	root := filepath.Join(dockerDir, context)
	df := filepath.Join(root, dockerfile)
	mustExist(t, root)
	mustExist(t, df)
	patterns := dockerignore(t)
	for _, src := range copySources(t, df) {
		mustExist(t, filepath.Join(root, src))
		if src != "." && ignored(patterns, src) {
			t.Errorf("%s copies %s, which .dockerignore leaves out", dockerfile, src)
		}
	}
}

// dockerfileInstructions returns the instructions of a Dockerfile, each
// with its continuation lines joined, comments left out.
func dockerfileInstructions(t *testing.T, file string) []string {
	t.Helper()
	var out []string
	joined := ""
	for _, line := range lines(t, file) {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		joined += strings.TrimSpace(line)
		if rest, ok := strings.CutSuffix(joined, "\\"); ok {
			joined = rest + " "
			continue
		}
		if joined != "" {
			out = append(out, joined)
		}
		joined = ""
	}
	return out
}

// copySources are the context paths a Dockerfile COPYs (not those from
// another stage).
func copySources(t *testing.T, file string) []string {
	t.Helper()
	var out []string
	for _, ins := range dockerfileInstructions(t, file) {
		fields := strings.Fields(ins)
		if fields[0] != "COPY" || strings.HasPrefix(fields[1], "--from=") {
			continue
		}
		out = append(out, fields[1:len(fields)-1]...)
	}
	return out
}

// execForm returns the JSON array after keyword in the Dockerfile's
// instruction that starts with instruction (e.g. HEALTHCHECK … CMD [...]).
func execForm(t *testing.T, file, instruction, keyword string) []string {
	t.Helper()
	for _, ins := range dockerfileInstructions(t, file) {
		if !strings.HasPrefix(ins, instruction+" ") {
			continue
		}
		_, arr, ok := strings.Cut(ins, keyword+" [")
		var args []string
		if !ok || json.Unmarshal([]byte("["+arr), &args) != nil {
			t.Fatalf("%s: %s is not in exec form: %s", file, instruction, ins)
		}
		return args
	}
	t.Fatalf("%s: no %s", file, instruction)
	return nil
}

// dockerignore is the repository root's .dockerignore, patterns only.
func dockerignore(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, l := range lines(t, "../../.dockerignore") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// ignored reports whether a pattern matches p or one of its parent
// folders: enough of Docker's rules for the plain patterns used here.
func ignored(patterns []string, p string) bool {
	for _, pat := range patterns {
		pat = strings.TrimPrefix(pat, "**/")
		for q := p; q != "." && q != "/"; q = path.Dir(q) {
			if ok, _ := path.Match(pat, q); ok {
				return true
			}
			if ok, _ := path.Match(pat, path.Base(q)); ok && strings.HasPrefix(pat, "*") {
				return true
			}
		}
	}
	return false
}

// TestComposeServices: images are pinned, long-running services restart by
// themselves, and dcrgate's health check is the image's own, in exec form
// (the image has no shell), on the configuration compose mounts.
func TestComposeServices(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		t.Run("ok/"+name, func(t *testing.T) {
			if s.Image != "" {
				if _, tag, ok := strings.Cut(s.Image, ":"); !ok || tag == "latest" {
					t.Errorf("image %s is not pinned to a version", s.Image)
				}
			}
			if s.Restart != "unless-stopped" && s.Restart != "no" {
				t.Errorf("restart %q: want unless-stopped, or \"no\" for a one-shot job", s.Restart)
			}
		})
	}
	gw := c.service(t, "dcrgate")
	if gw.Healthcheck == nil {
		t.Fatal("dcrgate has no healthcheck")
	}
	image := execForm(t, filepath.Join(dockerDir, "Dockerfile"), "HEALTHCHECK", "CMD")
	if got := gw.Healthcheck.Test; len(got) == 0 || got[0] != "CMD" || !slices.Equal(got[1:], image) {
		t.Errorf("compose healthcheck %q, want [CMD] + the image's %q", got, image)
	}
	entry := execForm(t, filepath.Join(dockerDir, "Dockerfile"), "ENTRYPOINT", "ENTRYPOINT")
	want := append(slices.Clone(entry), "health", "--config", "/etc/dcrgate/dcrgate.yaml")
	if !slices.Equal(image, want) {
		t.Errorf("image healthcheck %q, want %q", image, want)
	}
	if gw.mountedAt("/etc/dcrgate/dcrgate.yaml") == "" {
		t.Error("compose mounts no configuration at /etc/dcrgate/dcrgate.yaml, which the health check reads")
	}
}

func mustExist(t *testing.T, p string) {
	t.Helper()
	if _, err := os.Stat(p); err != nil {
		t.Error(err)
	}
}

func lines(t *testing.T, file string) []string {
	t.Helper()
	return strings.Split(readFile(t, file), "\n")
}
