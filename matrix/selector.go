package matrix

import (
	"fmt"
	"strings"
)

// Selector keeps the cells whose values match every term of an expression
// such as "worker=host|containerd,distro=debian-*". The zero Selector keeps
// every cell.
type Selector struct {
	terms []term
	src   string
}

type term struct {
	axis     string
	patterns []string
}

// ParseSelector parses a MATRIXBOX_SELECT expression: comma-separated terms
// "axis=value|value", where '*' in a value matches any run of characters.
// The empty string selects every cell. A malformed expression is an error
// that quotes the offending part; it never degrades to match-all.
func ParseSelector(s string) (Selector, error) {
	sel := Selector{src: s}
	if strings.TrimSpace(s) == "" {
		return sel, nil
	}
	seen := map[string]bool{}
	for _, raw := range strings.Split(s, ",") {
		part := strings.TrimSpace(raw)
		if part == "" {
			return Selector{}, fmt.Errorf("selection %q: empty term (two commas, or a comma at an end)", s)
		}
		axis, values, ok := strings.Cut(part, "=")
		if !ok {
			return Selector{}, fmt.Errorf("selection %q: term %q has no '=' (want axis=value|value)", s, part)
		}
		axis = strings.TrimSpace(axis)
		if err := checkSelectorWord("axis", axis, false); err != nil {
			return Selector{}, fmt.Errorf("selection %q: term %q: %w", s, part, err)
		}
		if seen[axis] {
			return Selector{}, fmt.Errorf("selection %q: axis %q appears twice (write %s=a|b to keep either)", s, axis, axis)
		}
		seen[axis] = true
		t := term{axis: axis}
		for _, v := range strings.Split(values, "|") {
			v = strings.TrimSpace(v)
			if err := checkSelectorWord("value", v, true); err != nil {
				return Selector{}, fmt.Errorf("selection %q: term %q: %w", s, part, err)
			}
			t.patterns = append(t.patterns, v)
		}
		sel.terms = append(sel.terms, t)
	}
	return sel, nil
}

func checkSelectorWord(what, w string, glob bool) error {
	if w == "" {
		return fmt.Errorf("empty %s", what)
	}
	for _, r := range w {
		switch {
		case r == '*' && glob:
		case isGlobSyntax(r):
			return fmt.Errorf("%s %q: %q is no wildcard here (only '*' is, for any run of characters), and no %s holds it", what, w, r, what)
		case r == '/' && glob:
			// A value named as it is written elsewhere (linux/arm64):
			// value names, as in the subtest names, have '-' for '/'.
			return fmt.Errorf("%s %q: character '/' is not allowed: value names use '-' where the value has '/' (did you mean %s?)",
				what, w, strings.ReplaceAll(w, "/", "-"))
		case r == '/' || r == '=' || r == ',' || r == '|' || r == '*' || r <= ' ' || r == 0x7f:
			return fmt.Errorf("%s %q: character %q is not allowed", what, w, r)
		}
	}
	return nil
}

// Empty reports whether the selector keeps every cell.
func (s Selector) Empty() bool { return len(s.terms) == 0 }

// String returns the expression the selector was parsed from.
func (s Selector) String() string { return s.src }

// Axes returns the axis names the selector constrains, in expression order.
func (s Selector) Axes() []string {
	out := make([]string, len(s.terms))
	for i, t := range s.terms {
		out[i] = t.axis
	}
	return out
}

// Match reports whether c satisfies every term. A cell that lacks an axis
// named by a term does not match it.
func (s Selector) Match(c Cell) bool {
	for _, t := range s.terms {
		v, ok := c.Lookup(t.axis)
		if !ok {
			return false
		}
		hit := false
		for _, p := range t.patterns {
			if Glob(p, v.Name) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

// Glob reports whether name matches pattern, where '*' matches any run of
// characters (including none) and every other character matches itself.
func Glob(pattern, name string) bool {
	// Classic two-pointer wildcard match with backtracking to the last '*':
	// linear in practice and never exponential.
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case p < len(pattern) && pattern[p] == name[n]:
			p++
			n++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
