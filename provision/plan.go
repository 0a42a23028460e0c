package provision

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/dcrgate/dcrgate/credentials"
	"github.com/dcrgate/dcrgate/schema"
)

// schemeModules maps ldap.secret_scheme to the slapd module that verifies
// it on bind ("" for a scheme slapd does not verify).
var schemeModules = map[string]string{
	"":                              "pw-sha2",
	credentials.SchemeSSHA512:       "pw-sha2",
	credentials.SchemeArgon2:        "argon2",
	credentials.SchemePBKDF2SHA512:  "pw-pbkdf2", // Debian's slapd-contrib
	credentials.SchemeServerHashing: "",
}

// lastBindPrecision is the lastbind overlay's olcLastBindPrecision: one
// write an hour per busy client rather than one per bind, which is still
// far finer than any idle period worth reaping.
const lastBindPrecision = "3600"

// planner builds a Plan step by step, in the order the changes must be
// made: modules before the schema and overlays that need them, the schema
// before the indexes and rules that name its attributes, the entries
// before the access rules, which end in "by * none".
type planner struct {
	t    Target
	cfg  slapdConfig
	plan Plan
}

// newPlan computes what is missing. installed is schema.Check's verdict on
// the server's schema; exists tells whether an entry is there.
func newPlan(t Target, cfg slapdConfig, adminDN string, installed schema.Report, exists func(dn string) (bool, error)) (Plan, error) {
	p := &planner{t: t, cfg: cfg, plan: Plan{Database: cfg.db, AdminDN: adminDN}}
	steps := []func() error{
		p.modules,
		func() error { return p.schema(installed) },
		p.indexes,
		p.overlay,
		func() error { return p.entries(exists) },
		p.limits,
		p.access,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return Plan{}, err
		}
	}
	return p.plan, nil
}

func (p *planner) add(c Change) { p.plan.Changes = append(p.plan.Changes, c) }

func (p *planner) note(format string, args ...any) {
	p.plan.Notes = append(p.plan.Notes, fmt.Sprintf(format, args...))
}

// modules loads pw-sha2 (the service account's {SSHA512} password), the
// module of the secret scheme and lastbind, where not loaded yet.
func (p *planner) modules() error {
	scheme, known := schemeModules[p.t.SecretScheme]
	if !known {
		return fmt.Errorf("unknown secret scheme %q", p.t.SecretScheme)
	}
	if scheme == "" {
		p.note("secret scheme %s: slapd must hash secrets on write (ppolicy's olcPPolicyHashCleartext), which init does not set up", p.t.SecretScheme)
	}
	want := []string{"pw-sha2", scheme}
	if p.t.LastBind {
		want = append(want, "lastbind")
	}
	var loaded []string
	for _, l := range p.cfg.modules {
		loaded = append(loaded, l.loaded...)
	}
	for _, name := range slices.Compact(want) {
		if name != "" && !slices.Contains(loaded, name) {
			p.add(p.loadModule(name))
			loaded = append(loaded, name)
		}
	}
	return nil
}

// loadModule adds name to the first module list, or makes one: slapd
// looks for it in its default module directory.
func (p *planner) loadModule(name string) Change {
	c := Change{Summary: "module " + name, Via: ViaConfig}
	if len(p.cfg.modules) > 0 {
		c.Modify = modifyAdd(p.cfg.modules[0].dn, "olcModuleLoad", name)
		return c
	}
	c.Add = ldap.NewAddRequest("cn=module,"+p.cfg.configDN, nil)
	c.Add.Attribute("objectClass", []string{"olcModuleList"})
	c.Add.Attribute("cn", []string{"module"})
	c.Add.Attribute("olcModuleLoad", []string{name})
	p.cfg.modules = []moduleList{{dn: "cn=module{0}," + p.cfg.configDN}}
	return c
}

// schema adds the committed OpenLDAP schema when none of it is installed.
// An installed one must match this version: init never changes it, since
// other gateways may depend on what is there.
func (p *planner) schema(installed schema.Report) error {
	if installed.OK() {
		return nil
	}
	if slices.ContainsFunc(installed.Findings, func(f schema.Finding) bool { return f.Status != schema.StatusMissing }) {
		var table strings.Builder
		_ = installed.WriteTable(&table)
		return fmt.Errorf("%w:\n%s", ErrSchemaMismatch, table.String())
	}
	ldif, err := schema.Committed(schema.OpenLDAPConfig{})
	if err != nil {
		return err
	}
	add, err := parseEntry(string(ldif))
	if err != nil {
		return fmt.Errorf("the committed schema: %w", err)
	}
	name := strings.TrimPrefix(strings.Split(add.DN, ",")[0], "cn=")
	p.add(Change{Summary: "schema cn={" + strconv.Itoa(p.cfg.schemas) + "}" + name, Via: ViaConfig, Add: add})
	return nil
}

// indexes adds an equality index on each attribute of
// schema.EqualityIndexes the database does not index yet. An attribute
// indexed without eq is left to the administrator: slapd refuses a second
// index definition for it.
func (p *planner) indexes() error {
	have := indexTypes(p.cfg.db.Indexes)
	for _, name := range schema.Definition().EqualityIndexes() {
		types, listed := have[strings.ToLower(name)]
		switch {
		case listed && slices.Contains(types, "eq"):
			continue
		case listed:
			return fmt.Errorf("%w: %s indexes %s as %s, without eq: add eq to that olcDbIndex value by hand",
				ErrConflict, p.cfg.db.DN, name, strings.Join(types, ","))
		}
		p.add(Change{Summary: "index " + name + " eq", Via: ViaConfig,
			Modify: modifyAdd(p.cfg.db.DN, "olcDbIndex", name+" eq")})
	}
	return nil
}

// indexTypes reads olcDbIndex values ("cn,uid eq,sub", "objectClass eq",
// "mail" for the default types) into the index types by lowercase
// attribute name.
func indexTypes(values []string) map[string][]string {
	have := map[string][]string{}
	for _, v := range values {
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		types := []string{"default"}
		if len(fields) > 1 {
			types = strings.Split(fields[1], ",")
		}
		for _, attr := range strings.Split(fields[0], ",") {
			have[strings.ToLower(attr)] = append(have[strings.ToLower(attr)], types...)
		}
	}
	return have
}

// overlay adds lastbind to the database when asked and missing.
func (p *planner) overlay() error {
	if !p.t.LastBind || slices.Contains(p.cfg.db.Overlays, "lastbind") {
		return nil
	}
	add := ldap.NewAddRequest("olcOverlay=lastbind,"+p.cfg.db.DN, nil)
	add.Attribute("objectClass", []string{"olcOverlayConfig", "olcLastBindConfig"})
	add.Attribute("olcOverlay", []string{"lastbind"})
	add.Attribute("olcLastBindPrecision", []string{lastBindPrecision})
	p.add(Change{Summary: "overlay lastbind (precision " + lastBindPrecision + " s)", Via: ViaConfig, Add: add})
	return nil
}

// limits puts the service account's limit first, unless it is there.
func (p *planner) limits() error {
	for _, want := range NewRules(p.t.BaseDN, p.t.ServiceDN, p.t.ReaderDN).Limits {
		if !slices.Contains(unindexedAll(p.cfg.db.Limits), want) {
			p.add(Change{Summary: "limit " + want, Via: ViaConfig,
				Modify: modifyAdd(p.cfg.db.DN, "olcLimits", "{0}"+want)})
		}
	}
	return nil
}

// access puts the three rules first, before any broader rule of the
// database, unless all three are there. Some of them alone (an older
// version's, or without the reader) is a conflict: which rule wins depends
// on the order, and only the administrator knows what was meant.
func (p *planner) access() error {
	want := NewRules(p.t.BaseDN, p.t.ServiceDN, p.t.ReaderDN).Access
	var have []string
	for _, rule := range unindexedAll(p.cfg.db.Access) {
		have = append(have, sortedAttrs(rule))
	}
	var missing []string
	for _, rule := range want {
		if !slices.Contains(have, sortedAttrs(rule)) {
			missing = append(missing, rule)
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case len(want):
		values := make([]string, len(want))
		for i, rule := range want {
			values[i] = "{" + strconv.Itoa(i) + "}" + rule
		}
		p.add(Change{Summary: fmt.Sprintf("access rules {0}-{%d} of %s", len(want)-1, p.cfg.db.DN), Via: ViaConfig,
			Modify: modifyAdd(p.cfg.db.DN, "olcAccess", values...)})
		return nil
	}
	return fmt.Errorf("%w: %s has some of dcrgate's access rules but not these:\n  %s\nedit its olcAccess by hand (docs/directories.md)",
		ErrConflict, p.cfg.db.DN, strings.Join(missing, "\n  "))
}

// sortedAttrs sorts the attrs= list of a rule, whose order slapd ignores:
// rules installed from an older copy of the docs, which listed the hash
// attributes in another order, are still recognized.
func sortedAttrs(rule string) string {
	fields := strings.Fields(rule)
	for i, f := range fields {
		if list, ok := strings.CutPrefix(f, "attrs="); ok {
			attrs := strings.Split(list, ",")
			slices.Sort(attrs)
			fields[i] = "attrs=" + strings.Join(attrs, ",")
		}
	}
	return strings.Join(fields, " ")
}

// unindexedAll is unindexed of each value.
func unindexedAll(values []string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = unindexed(v)
	}
	return out
}

// modifyAdd adds values to attr of dn.
func modifyAdd(dn, attr string, values ...string) *ldap.ModifyRequest {
	m := ldap.NewModifyRequest(dn, nil)
	m.Add(attr, values)
	return m
}
