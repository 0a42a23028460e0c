package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// expected says what a value of type t looks like, in an operator's words
// rather than Go's; the file and the environment use the same ones.
func expected(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration like 30s, 5m or 24h"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case isInteger(t):
		return "a whole number"
	case t.Kind() == reflect.Float32, t.Kind() == reflect.Float64:
		return "a number"
	case t.Kind() == reflect.Slice:
		return "a list"
	case t.Kind() == reflect.Struct, t.Kind() == reflect.Map:
		return "a mapping of keys to values"
	}
	return "a single value"
}

func isInteger(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return true
	}
	return false
}

// scalarMismatch is what is wrong with the text s as a value of type t.
func scalarMismatch(t reflect.Type, s string) string {
	if isInteger(t) && t != durationType && outOfRange(s, t.Bits()) {
		return fmt.Sprintf("%q is out of range", s)
	}
	return fmt.Sprintf("must be %s, not %q", expected(t), s)
}

// outOfRange reports whether s is a whole number too large for bits.
func outOfRange(s string, bits int) bool {
	_, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, bits)
	return errors.Is(err, strconv.ErrRange)
}

// nodeMismatch is what is wrong with n, of the wrong kind, as a t.
func nodeMismatch(t reflect.Type, n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return fmt.Sprintf("must be %s, not a mapping", expected(t))
	case yaml.SequenceNode:
		return fmt.Sprintf("must be %s, not a list", expected(t))
	case yaml.AliasNode:
		return fmt.Sprintf("must be %s, not an alias to nothing", expected(t))
	}
	return scalarMismatch(t, n.Value)
}

// decodeMismatch is what is wrong with n, of the right kind, when yaml.v3
// refused to decode it as a t. Only the free-form mappings (a defaults
// policy's metadata, say) can fail other than as a scalar; for those,
// yaml.v3's own words (a key set twice, an alias inside its anchor) are
// the best there are.
func decodeMismatch(t reflect.Type, n *yaml.Node, err error) string {
	if n.Kind == yaml.ScalarNode {
		return scalarMismatch(t, n.Value)
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return "cannot be read: " + strings.Join(te.Errors, "; ")
	}
	return "cannot be read: " + err.Error()
}

// unknownKey names a key that t has no field for, with the field the
// operator most likely meant when one is a typo away.
func unknownKey(t reflect.Type, name string) string {
	best, bestDist := "", 3 // farther, or more than half the name, is no typo
	for i := range t.NumField() {
		if field, ok := yamlName(t.Field(i)); ok {
			if d := editDistance(name, field); d < bestDist && 2*d <= len(name) {
				best, bestDist = field, d
			}
		}
	}
	if best == "" {
		return "unknown key"
	}
	return fmt.Sprintf("unknown key (did you mean %s?)", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
