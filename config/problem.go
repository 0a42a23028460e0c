package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing that keeps serve from starting with a configuration,
// or, when Warning is set, one thing config check --probe could not confirm.
// It names the key it is about and, where the value came from, the place.
type Problem struct {
	// File is the configuration file; "" when there is none.
	File string
	// Line is the line of Key in File, or of its nearest parent there; 0
	// when the value comes from a default or the environment.
	Line int
	// Key is the YAML path, e.g. initial_access_tokens.issuers[0].jwks_uri;
	// "" for the file as a whole.
	Key     string
	Message string
	// Env is the DCRGATE_* variable the value came from, if any.
	Env string
	// Warning marks what a probe found: it never makes a configuration invalid.
	Warning bool
}

// Error renders "file:line: key: message", leaving out what is unknown,
// and names the variable for a value from the environment.
func (p Problem) Error() string {
	var b strings.Builder
	switch {
	case p.Env != "":
	case p.File != "" && p.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", p.File, p.Line)
	case p.File != "":
		fmt.Fprintf(&b, "%s: ", p.File)
	}
	if p.Key != "" {
		b.WriteString(p.Key + ": ")
	}
	// A message of several lines (a CEL error shows where in the
	// expression) stays one problem: its later lines are indented.
	b.WriteString(strings.ReplaceAll(p.Message, "\n", "\n    "))
	if p.Env != "" {
		fmt.Fprintf(&b, " (from %s)", p.Env)
	}
	return b.String()
}

// Problems is every problem of one configuration, as one error: a line each.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// sortProblems orders problems by line, those without one last, keeping the
// order of the checks among equals.
func sortProblems(ps []Problem) []Problem {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if (a.Line == 0) != (b.Line == 0) {
			return cmp.Compare(b.Line, a.Line) // the one with a line first
		}
		return cmp.Compare(a.Line, b.Line)
	})
	return ps
}

// covers reports whether key is at or below parent ("" covers every key).
func covers(parent, key string) bool {
	return parent == "" || key == parent || strings.HasPrefix(key, parent+".") || strings.HasPrefix(key, parent+"[")
}

// appendUncovered appends to earlier the later problems whose key no earlier
// problem covers: a value that could not be read, or is already wrong, is
// reported once, not again by every check that sees it empty.
func appendUncovered(earlier, later []Problem) []Problem {
	out := earlier
	for _, p := range later {
		if !slices.ContainsFunc(earlier, func(e Problem) bool { return covers(e.Key, p.Key) }) {
			out = append(out, p)
		}
	}
	return out
}

// parentKey is key without its last step: a.b[0].c → a.b[0] → a.b → a → "".
func parentKey(key string) string {
	i := strings.LastIndexAny(key, ".[")
	if i < 0 {
		return ""
	}
	return key[:i]
}

// source says where values came from, so that a problem can point there.
type source struct {
	file string
	// lines maps the key paths the file has to their lines.
	lines map[string]int
	// env maps the key paths set from the environment to their variables.
	env map[string]string
}

// place sets p's File, and its Line or Env unless it has one: the variable
// that set its key or a parent, else the line of the key or of its nearest
// parent in the file.
func (s source) place(p Problem) Problem {
	p.File = s.file
	if p.Line > 0 || p.Env != "" { // placed where it was found
		return p
	}
	for k := p.Key; k != ""; k = parentKey(k) {
		if name, ok := s.env[k]; ok {
			p.Env = name
			return p
		}
	}
	for k := p.Key; k != ""; k = parentKey(k) {
		if line, ok := s.lines[k]; ok {
			p.Line = line
			return p
		}
	}
	return p
}

func (s source) placeAll(ps []Problem) []Problem {
	for i := range ps {
		ps[i] = s.place(ps[i])
	}
	return ps
}
