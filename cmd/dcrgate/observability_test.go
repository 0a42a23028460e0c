package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"text/template"
	"time"

	"go.yaml.in/yaml/v3"
)

// decodeYAML decodes file strictly: a misspelt key is an error, not a
// setting Prometheus or Grafana would silently ignore.
func decodeYAML(t *testing.T, file string, v any) {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader([]byte(readFile(t, file))))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// alertRule is one rule of a Prometheus rule file.
type alertRule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type ruleFile struct {
	Groups []struct {
		Name  string      `yaml:"name"`
		Rules []alertRule `yaml:"rules"`
	} `yaml:"groups"`
}

// severities are the values the severity label may take.
var severities = map[string]bool{"critical": true, "warning": true}

// TestAlertRules: every rule of docker/prometheus/alerts.yml is a named
// alert with a severity, a summary and a description whose templates
// parse, and an expression that parses as PromQL and reads only metrics
// dcrgate registers (checkPromQL).
func TestAlertRules(t *testing.T) {
	var rf ruleFile
	decodeYAML(t, filepath.Join(dockerDir, "prometheus", "alerts.yml"), &rf)
	fams := registeredFamilies(t)
	seen := map[string]bool{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			t.Run("ok/"+r.Alert, func(t *testing.T) {
				if r.Alert == "" || seen[r.Alert] {
					t.Fatalf("alert name %q empty or repeated", r.Alert)
				}
				seen[r.Alert] = true
				checkAlert(t, r)
				if err := checkPromQL(r.Expr, fams); err != nil {
					t.Errorf("expr: %v", err)
				}
			})
		}
	}
	if len(seen) == 0 {
		t.Fatal("no alert rules")
	}
}

// checkAlert checks what Prometheus would accept and what on-call needs.
func checkAlert(t *testing.T, r alertRule) {
	t.Helper()
	if !severities[r.Labels["severity"]] {
		t.Errorf("severity %q, want one of %v", r.Labels["severity"], severities)
	}
	if r.For != "" {
		if _, err := time.ParseDuration(r.For); err != nil {
			t.Errorf("for: %v", err)
		}
	}
	for _, key := range []string{"summary", "description"} {
		if strings.TrimSpace(r.Annotations[key]) == "" {
			t.Errorf("no %s annotation", key)
		}
	}
	for key, text := range r.Annotations {
		if err := parseAlertTemplate(text); err != nil {
			t.Errorf("annotation %s: %v", key, err)
		}
	}
}

// alertTemplateFuncs are the template functions the annotations use, as
// stubs: Prometheus provides them; parsing only needs their names.
var alertTemplateFuncs = template.FuncMap{
	"humanize": fmt.Sprint, "humanizePercentage": fmt.Sprint, "humanizeDuration": fmt.Sprint,
}

// parseAlertTemplate parses an annotation as Prometheus does, with the
// $labels and $value variables it defines first.
func parseAlertTemplate(text string) error {
	_, err := template.New("annotation").Funcs(alertTemplateFuncs).
		Parse("{{$labels := .Labels}}{{$value := .Value}}" + text)
	return err
}

// prometheusConfig is the part of prometheus.yml the checks read.
type prometheusConfig struct {
	Global struct {
		ScrapeInterval     string `yaml:"scrape_interval"`
		EvaluationInterval string `yaml:"evaluation_interval"`
	} `yaml:"global"`
	RuleFiles     []string `yaml:"rule_files"`
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

// prometheusConfigDir is where the prom/prometheus image reads its
// configuration; rule_files are relative to it.
const prometheusConfigDir = "/etc/prometheus"

// TestPrometheusConfig: the compose Prometheus loads alerts.yml (compose
// mounts each rule file where prometheus.yml names it) and scrapes the
// dcrgate job on dcrgate's telemetry port.
func TestPrometheusConfig(t *testing.T) {
	var pc prometheusConfig
	decodeYAML(t, filepath.Join(dockerDir, "prometheus", "prometheus.yml"), &pc)
	c := loadCompose(t)
	prom := c.service(t, "prometheus")
	if src := prom.mountedAt(prometheusConfigDir + "/prometheus.yml"); path.Clean(src) != "prometheus/prometheus.yml" {
		t.Errorf("prometheus.yml is mounted from %q", src)
	}
	if len(pc.RuleFiles) == 0 {
		t.Error("prometheus.yml loads no rule files")
	}
	for _, f := range pc.RuleFiles {
		if src := prom.mountedAt(path.Join(prometheusConfigDir, f)); path.Clean(src) != "prometheus/alerts.yml" {
			t.Errorf("rule file %s: mounted from %q, want ./prometheus/alerts.yml", f, src)
		}
	}
	want := "dcrgate:" + metricsPort(t)
	for _, sc := range pc.ScrapeConfigs {
		if sc.JobName == "dcrgate" && len(sc.StaticConfigs) == 1 && len(sc.StaticConfigs[0].Targets) == 1 &&
			sc.StaticConfigs[0].Targets[0] == want {
			return
		}
	}
	t.Errorf("no dcrgate job scraping %s (the alert rules select job=\"dcrgate\")", want)
}

// metricsPort is the port of metrics.listen in the compose dcrgate.yaml.
func metricsPort(t *testing.T) string {
	t.Helper()
	var cfg struct {
		Metrics struct {
			Listen string `yaml:"listen"`
		} `yaml:"metrics"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, filepath.Join(dockerDir, "dcrgate.yaml"))), &cfg); err != nil {
		t.Fatal(err)
	}
	_, port, err := net.SplitHostPort(cfg.Metrics.Listen)
	if err != nil {
		t.Fatalf("metrics.listen: %v", err)
	}
	return port
}

// dashboard is the part of a Grafana dashboard JSON the checks read.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string     `json:"name"`
			Datasource datasource `json:"datasource"`
			Definition string     `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int        `json:"id"`
	Type       string     `json:"type"`
	Title      string     `json:"title"`
	Datasource datasource `json:"datasource"`
	GridPos    struct{ X, W int }
	Targets    []struct {
		Expr       string     `json:"expr"`
		Datasource datasource `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// grafanaDatasources is the provisioned datasource file.
type grafanaDatasources struct {
	APIVersion  int `yaml:"apiVersion"`
	Datasources []struct {
		Name      string `yaml:"name"`
		UID       string `yaml:"uid"`
		Type      string `yaml:"type"`
		Access    string `yaml:"access"`
		URL       string `yaml:"url"`
		IsDefault bool   `yaml:"isDefault"`
		Editable  bool   `yaml:"editable"`
	} `yaml:"datasources"`
}

// grafanaProviders is the provisioned dashboard provider file.
type grafanaProviders struct {
	APIVersion int `yaml:"apiVersion"`
	Providers  []struct {
		Name            string `yaml:"name"`
		Folder          string `yaml:"folder"`
		Type            string `yaml:"type"`
		DisableDeletion bool   `yaml:"disableDeletion"`
		AllowUIUpdates  bool   `yaml:"allowUiUpdates"`
		Options         struct {
			Path string `yaml:"path"`
		} `yaml:"options"`
	} `yaml:"providers"`
}

// Where the grafana/grafana image reads its provisioning.
const grafanaProvisioning = "/etc/grafana/provisioning"

// TestGrafanaProvisioning: compose mounts the provisioning where Grafana
// reads it; the datasource is the compose Prometheus (a service of the
// stack, on Prometheus's port inside the network); the dashboard provider
// reads the folder compose mounts the dashboards into.
func TestGrafanaProvisioning(t *testing.T) {
	graf := loadCompose(t).service(t, "grafana")
	for _, kind := range []string{"datasources", "dashboards"} {
		if src := graf.mountedAt(grafanaProvisioning + "/" + kind); path.Clean(src) != "grafana/provisioning/"+kind {
			t.Errorf("%s/%s is mounted from %q", grafanaProvisioning, kind, src)
		}
	}
	ds := provisionedDatasource(t)
	if u, err := url.Parse(ds.URL); err != nil || u.Hostname() != "prometheus" || u.Port() != "9090" {
		t.Errorf("datasource url %q, want the compose prometheus service on 9090", ds.URL)
	}
	var pv grafanaProviders
	decodeYAML(t, filepath.Join(dockerDir, "grafana", "provisioning", "dashboards", "dcrgate.yaml"), &pv)
	if len(pv.Providers) != 1 || pv.Providers[0].Type != "file" {
		t.Fatalf("want one file provider, got %+v", pv.Providers)
	}
	if target := graf.mounting("./grafana/dashboards"); target == "" || target != pv.Providers[0].Options.Path {
		t.Errorf("provider reads %q, compose mounts the dashboards at %q", pv.Providers[0].Options.Path, target)
	}
}

// provisionedDatasource is the one Prometheus datasource Grafana gets.
func provisionedDatasource(t *testing.T) struct{ UID, URL string } {
	t.Helper()
	var gd grafanaDatasources
	decodeYAML(t, filepath.Join(dockerDir, "grafana", "provisioning", "datasources", "prometheus.yaml"), &gd)
	if len(gd.Datasources) != 1 || gd.Datasources[0].Type != "prometheus" || gd.Datasources[0].UID == "" {
		t.Fatalf("want one prometheus datasource with a uid, got %+v", gd.Datasources)
	}
	return struct{ UID, URL string }{gd.Datasources[0].UID, gd.Datasources[0].URL}
}

// TestDashboards: every dashboard Grafana provisions has a uid and a
// title, panels with unique ids inside the 24-column grid, every query on
// the provisioned datasource, and every expression — panel queries and
// label_values() variables — valid PromQL over dcrgate's metrics.
func TestDashboards(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(dockerDir, "grafana", "dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards: %v", err)
	}
	fams := registeredFamilies(t)
	uid := provisionedDatasource(t).UID
	for _, f := range files {
		t.Run("ok/"+filepath.Base(f), func(t *testing.T) { checkDashboard(t, f, uid, fams) })
	}
}

func checkDashboard(t *testing.T, file, uid string, fams families) {
	t.Helper()
	var d dashboard
	raw, err := os.ReadFile(file)
	if err == nil {
		err = json.Unmarshal(raw, &d)
	}
	if err != nil || d.UID == "" || d.Title == "" {
		t.Fatalf("%s: %v (uid %q, title %q)", file, err, d.UID, d.Title)
	}
	ids := map[int]bool{}
	for _, p := range flatten(d.Panels) {
		if ids[p.ID] {
			t.Errorf("panel id %d repeated", p.ID)
		}
		ids[p.ID] = true
		checkPanel(t, p, uid, fams)
	}
	for _, v := range d.Templating.List {
		if v.Datasource.UID != uid {
			t.Errorf("variable %s: datasource %q, want %q", v.Name, v.Datasource.UID, uid)
		}
		if err := checkLabelValues(v.Definition, fams); err != nil {
			t.Errorf("variable %s: %v", v.Name, err)
		}
	}
}

// flatten lists panels, collapsed rows' panels included.
func flatten(panels []panel) []panel {
	var out []panel
	for _, p := range panels {
		out = append(out, p)
		out = append(out, flatten(p.Panels)...)
	}
	return out
}

func checkPanel(t *testing.T, p panel, uid string, fams families) {
	t.Helper()
	if p.GridPos.X < 0 || p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 {
		t.Errorf("panel %q: gridPos x=%d w=%d outside the 24 columns", p.Title, p.GridPos.X, p.GridPos.W)
	}
	if p.Type == "row" {
		return
	}
	if p.Datasource.UID != uid || len(p.Targets) == 0 {
		t.Errorf("panel %q: datasource %q with %d queries, want %q", p.Title, p.Datasource.UID, len(p.Targets), uid)
	}
	for _, q := range p.Targets {
		if q.Datasource.UID != uid {
			t.Errorf("panel %q: query on datasource %q", p.Title, q.Datasource.UID)
		}
		if err := checkPromQL(q.Expr, fams); err != nil {
			t.Errorf("panel %q: %s: %v", p.Title, q.Expr, err)
		}
	}
}

// labelValues is Grafana's label_values(selector, label) variable query.
var labelValues = regexp.MustCompile(`^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

// checkLabelValues wants the selector valid and the label on its series.
func checkLabelValues(query string, fams families) error {
	m := labelValues.FindStringSubmatch(query)
	if m == nil {
		return fmt.Errorf("%q: only label_values(selector, label) queries are checked", query)
	}
	return checkPromQL(fmt.Sprintf("count by (%s) (%s)", m[2], m[1]), fams)
}
