package config

import (
	"fmt"
	"math"
	"reflect"

	"go.yaml.in/yaml/v3"
)

// walker checks a YAML document beside the Go type it decodes into and
// reports, each with its line and key path and in plain words, what
// yaml.v3 reports badly or not at all: unknown keys (KnownFields is lost in
// Node.Decode, and names Go types rather than keys), keys set twice, and
// values of the wrong type. Each scalar is decoded into its field's type,
// so "wrong" means exactly what yaml.v3 refuses. What it reports it also
// prunes — a bad value becomes null, a repeated key goes — so that the rest
// of the document decodes and its semantic checks still run. On the way it
// records the line of every key path, for the problems found later.
type walker struct {
	problems []Problem
	lines    map[string]int
	// walked holds why each (node, type) pair does not fit ("" = it
	// does): an anchor used twice is walked once, and an alias inside its
	// own anchor (or a billion laughs) cannot make the walk loop or explode.
	walked map[visit]string
}

type visit struct {
	n *yaml.Node
	t reflect.Type
}

func newWalker() *walker {
	return &walker{lines: map[string]int{}, walked: map[visit]string{}}
}

// walk checks the value in *slot against t and, when it does not fit,
// reports it where it is used (for an alias, not where its anchor is) and
// replaces it: in a mapping by null, which leaves the field as it was (its
// default), in a list by t's zero value, so that the elements after it
// keep their index and their problems their line.
func (w *walker) walk(slot **yaml.Node, t reflect.Type, path string, inList bool) {
	n := resolve(*slot)
	if isNull(n) {
		return
	}
	v := visit{n, t}
	misfit, done := w.walked[v]
	if !done {
		w.walked[v] = "" // provisionally, for an alias inside its own anchor
		misfit = w.misfit(n, t, path)
		w.walked[v] = misfit
	}
	if misfit != "" {
		w.report((*slot).Line, path, misfit)
		*slot = replacement(t, inList)
	}
}

// replacement is the value walk puts in place of one that does not fit.
func replacement(t reflect.Type, inList bool) *yaml.Node {
	var n yaml.Node
	if !inList || n.Encode(reflect.Zero(t).Interface()) != nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	return &n
}

// misfit says why n does not have the shape of t ("" = it does); what is
// wrong inside a mapping or a list is reported and pruned there.
func (w *walker) misfit(n *yaml.Node, t reflect.Type, path string) string {
	if k := nodeKind(t); k != 0 && n.Kind != k {
		return nodeMismatch(t, n)
	}
	switch t.Kind() {
	case reflect.Struct:
		w.walkStruct(n, t, path)
	case reflect.Slice:
		w.walkList(n, t.Elem(), path)
	default:
		if err := n.Decode(reflect.New(t).Interface()); err != nil || isFraction(t, n) {
			return decodeMismatch(t, n, err)
		}
	}
	return ""
}

// isFraction reports a number with a fractional part for a whole-number
// field, which yaml.v3 would silently truncate.
func isFraction(t reflect.Type, n *yaml.Node) bool {
	if !isInteger(t) || t == durationType || n.ShortTag() != "!!float" {
		return false
	}
	var f float64
	return n.Decode(&f) != nil || f != math.Trunc(f)
}

func (w *walker) walkList(n *yaml.Node, elem reflect.Type, path string) {
	for i := range n.Content {
		key := fmt.Sprintf("%s[%d]", path, i)
		w.index(key, n.Content[i].Line)
		w.walk(&n.Content[i], elem, key, true)
	}
}

// walkStruct checks each key of a mapping against t's fields, then the
// mappings merged into it (<<), whose keys the mapping's own override.
func (w *walker) walkStruct(n *yaml.Node, t reflect.Type, path string) {
	seen := map[string]int{} // key → line
	var kept, merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" {
			merges = append(merges, k, n.Content[i+1])
			continue
		}
		if w.entry(k, &n.Content[i+1], t, path, seen) {
			kept = append(kept, k, n.Content[i+1])
		}
	}
	for i := 0; i < len(merges); i += 2 {
		if w.merge(merges[i+1], t, path) {
			kept = append(kept, merges[i], merges[i+1])
		}
	}
	n.Content = kept
}

// entry checks one key and its value; false drops the pair.
func (w *walker) entry(k *yaml.Node, v **yaml.Node, t reflect.Type, path string, seen map[string]int) bool {
	if k.Kind != yaml.ScalarNode {
		w.report(k.Line, path, "a key must be a plain name, not a list or a mapping")
		return false
	}
	key := joinKey(path, k.Value)
	if first, dup := seen[k.Value]; dup {
		w.report(k.Line, key, fmt.Sprintf("is set twice (first on line %d)", first))
		return false
	}
	seen[k.Value] = k.Line
	f, ok := fieldByYAMLName(t, k.Value)
	if !ok {
		w.report(k.Line, key, unknownKey(t, k.Value))
		return true // yaml.v3 skips it
	}
	w.index(key, k.Line)
	w.walk(v, f.Type, key, false)
	return true
}

// merge checks the value of a merge key — a mapping or a list of them,
// whose keys belong to the struct itself; false drops the merge, which
// yaml.v3 would otherwise refuse as a whole.
func (w *walker) merge(v *yaml.Node, t reflect.Type, path string) bool {
	n := resolve(v)
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	for _, it := range items {
		if resolve(it).Kind != yaml.MappingNode {
			w.report(it.Line, joinKey(path, "<<"), "must be a mapping, or a list of mappings, to merge")
			return false
		}
	}
	for _, it := range items {
		w.walk(&it, t, path, false) // a mapping, so it fits
	}
	return true
}

// index records the first line seen for key: the mapping's own keys come
// before those it merges, and win.
func (w *walker) index(key string, line int) {
	if _, ok := w.lines[key]; !ok {
		w.lines[key] = line
	}
}

func (w *walker) report(line int, key, msg string) {
	if key == "" {
		msg = "the file " + msg
	}
	w.problems = append(w.problems, Problem{Line: line, Key: key, Message: msg})
}

// resolve follows an alias to its anchor.
func resolve(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// nodeKind is the node kind t decodes from; 0 for any (interface types).
func nodeKind(t reflect.Type) yaml.Kind {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return yaml.MappingNode
	case reflect.Slice:
		return yaml.SequenceNode
	case reflect.Interface:
		return 0
	}
	return yaml.ScalarNode
}
