package matrix

import (
	"fmt"
	"strings"

	"github.com/matrixbox/matrixbox/internal/suggest"
)

// Explain says why s matches no cell of axes, one line per term that
// matches nothing, each with a "did you mean" when a name of the axes is
// one or two edits away from the term's. When every term matches some
// value, no cell has them all only because something else (an exclusion)
// dropped those cells, and Explain says so.
func (s Selector) Explain(axes []Axis) []string {
	var lines []string
	var names []string
	for _, a := range axes {
		names = append(names, a.Name)
	}
	for _, t := range s.terms {
		term := t.axis + "=" + strings.Join(t.patterns, "|")
		a, ok := findAxis(axes, t.axis)
		if !ok {
			hint := ""
			if n, ok := suggest.Nearest(t.axis, names); ok {
				hint = fmt.Sprintf("; did you mean %s?", n)
			}
			lines = append(lines, fmt.Sprintf("%s: there is no axis %q%s", term, t.axis, hint))
			continue
		}
		var values []string
		hit := false
		for _, v := range a.Values {
			values = append(values, v.Name)
			for _, p := range t.patterns {
				hit = hit || Glob(p, v.Name)
			}
		}
		if hit {
			continue
		}
		var hints []string
		for _, p := range t.patterns {
			if !strings.Contains(p, "*") {
				if n, ok := suggest.Nearest(p, values); ok {
					hints = append(hints, t.axis+"="+n)
				}
			}
		}
		hint := ""
		if len(hints) > 0 {
			hint = "; did you mean " + strings.Join(hints, " or ") + "?"
		}
		lines = append(lines, fmt.Sprintf("%s: no value of axis %q matches%s", term, t.axis, hint))
	}
	if len(lines) == 0 && !s.Empty() {
		lines = append(lines, "every term matches some value, but exclusions drop every cell that has them all")
	}
	return lines
}

func findAxis(axes []Axis, name string) (Axis, bool) {
	for _, a := range axes {
		if a.Name == name {
			return a, true
		}
	}
	return Axis{}, false
}
