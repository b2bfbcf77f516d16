package matrix

import (
	"fmt"
	"sort"
	"strings"
)

// Value is one choice on an axis: a name fit for a subtest name and the value
// a test reads back.
type Value struct {
	Name string
	V    any
}

// Axis is a named, ordered list of values.
type Axis struct {
	Name   string
	Values []Value
}

// NewAxis returns an axis whose values keep the order given.
func NewAxis(name string, values ...Value) Axis {
	return Axis{Name: name, Values: values}
}

// Strings returns an axis whose value names are the strings themselves, in the
// order given, and whose values are those strings.
func Strings(name string, values ...string) Axis {
	a := Axis{Name: name}
	for _, v := range values {
		a.Values = append(a.Values, Value{Name: v, V: v})
	}
	return a
}

// FromMap returns an axis with one value per map entry, sorted by name, so
// that the order never depends on Go's map iteration.
func FromMap(name string, m map[string]any) Axis {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	a := Axis{Name: name}
	for _, k := range names {
		a.Values = append(a.Values, Value{Name: k, V: m[k]})
	}
	return a
}

// Validate reports the first problem that would make the axis produce
// ambiguous or unselectable subtest names.
func (a Axis) Validate() error {
	if err := checkName("axis name", a.Name); err != nil {
		return err
	}
	if len(a.Values) == 0 {
		return fmt.Errorf("axis %q has no values", a.Name)
	}
	seen := make(map[string]bool, len(a.Values))
	for _, v := range a.Values {
		if err := checkName(fmt.Sprintf("axis %q value", a.Name), v.Name); err != nil {
			return err
		}
		if seen[v.Name] {
			return fmt.Errorf("axis %q has value %q twice", a.Name, v.Name)
		}
		seen[v.Name] = true
	}
	return nil
}

// checkName rejects names that go test -run could not address: a '/' would
// split a level, a space is rewritten to '_' by the testing package, and '='
// ',' '|' '*' belong to the selection syntax.
func checkName(what, s string) error {
	if s == "" {
		return fmt.Errorf("%s is empty", what)
	}
	if i := strings.IndexFunc(s, func(r rune) bool {
		return r == '/' || r == '=' || r == ',' || r == '|' || r == '*' || isGlobSyntax(r) || r <= ' ' || r == 0x7f
	}); i >= 0 {
		return fmt.Errorf("%s %q: character %q is not allowed (no '/', '=', ',', '|', wildcard characters ('*', '?', '[', ']', '{', '}', '\\'), spaces or control characters)", what, s, s[i])
	}
	return nil
}

// isGlobSyntax reports whether r is wildcard syntax of some glob dialect
// other than MATRIXBOX_SELECT's, whose one wildcard is '*'. No name holds
// one, so a selection that does is a mistake, not a value that matches
// nothing.
func isGlobSyntax(r rune) bool {
	return r == '?' || r == '[' || r == ']' || r == '{' || r == '}' || r == '\\'
}
