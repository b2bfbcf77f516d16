package matrix

import (
	"fmt"
	"strings"
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
			if n, ok := nearest(t.axis, names); ok {
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
				if n, ok := nearest(p, values); ok {
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

// nearest returns the candidate nearest to word, when it is near enough
// to be a typo of it.
func nearest(word string, candidates []string) (string, bool) {
	best, bestD := "", -1
	for _, c := range candidates {
		d := editDistance(word, c)
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	limit := max(2, len(word)/4)
	if bestD < 1 || bestD > limit {
		return "", false
	}
	return best, true
}

// editDistance is the optimal-string-alignment distance: insertions,
// deletions, substitutions and swaps of neighbours each count one, so
// "contaienrd" is two edits from "containerd".
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
