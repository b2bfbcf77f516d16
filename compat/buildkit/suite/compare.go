package suite

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// Difference is a case whose outcome differs between two runs.
type Difference struct {
	Case string
	// A and B are the outcomes in each run, "absent" when it did not run.
	A, B string
}

// Compare lists the cases whose outcome differs between a and b, sorted by
// name.
func Compare(a, b *Run) []Difference {
	names := map[string]bool{}
	for n := range a.Outcomes {
		names[n] = true
	}
	for n := range b.Outcomes {
		names[n] = true
	}
	var diffs []Difference
	for _, n := range slices.Sorted(maps.Keys(names)) {
		oa, ob := outcome(a, n), outcome(b, n)
		if oa != ob {
			diffs = append(diffs, Difference{Case: n, A: oa, B: ob})
		}
	}
	return diffs
}

func outcome(r *Run, name string) string {
	if o, ok := r.Outcomes[name]; ok {
		return o
	}
	return "absent"
}

// WriteMarkdown writes a table of runs (passed, failed, skipped, wall
// time) and, for each pair of runs of one suite and worker on two
// harnesses or isolations, the cases whose outcomes differ with the last
// lines of their output.
func WriteMarkdown(w io.Writer, runs []*Run) {
	fmt.Fprintln(w, "| suite | worker | harness | passed | failed | skipped | wall time |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, r := range runs {
		p, f, s := r.Counts()
		fmt.Fprintf(w, "| %s | %s | %s | %d | %d | %d | %.1f s |\n", r.Suite, r.Worker, r.Label(), p, f, s, r.Wall.Seconds())
	}
	for i, a := range runs {
		for _, b := range runs[i+1:] {
			if a.Suite != b.Suite || a.Worker != b.Worker || a.Label() == b.Label() {
				continue
			}
			diffs := Compare(a, b)
			fmt.Fprintf(w, "\n### %s on %s: %d cases differ (%s vs %s)\n", a.Suite, a.Worker, len(diffs), a.Label(), b.Label())
			for _, d := range diffs {
				fmt.Fprintf(w, "\n- `%s`: %s %s, %s %s\n", d.Case, a.Label(), d.A, b.Label(), d.B)
				for _, r := range []*Run{a, b} {
					if o := r.Outcomes[d.Case]; o == Fail || o == Skip {
						fmt.Fprintf(w, "  - %s output (last lines):\n\n```\n%s\n```\n", r.Label(), strings.Join(tail(r.Output[d.Case], 12), "\n"))
					}
				}
			}
		}
	}
}

func tail(lines []string, n int) []string {
	if len(lines) > n {
		return lines[len(lines)-n:]
	}
	return lines
}
