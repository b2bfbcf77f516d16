package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/report"
)

// results is the merge of the shard reports of a suite.
type results struct {
	groups   []*group // by package, then Run
	problems []string // missing or incomplete shards, cases reported twice
	counts   map[string]int
}

// group is the grid of one integration.Run: its tests × its cells. A test
// that calls Run several times has a group per call (Index, from 1).
type group struct {
	Package, Run string
	Index        int
	several      bool // Run calls integration.Run more than once
	Shards       int
	GoVersion    string // of the test binaries, from the Run records
	Tests, Cells []string
	cases        map[[2]string]report.Record // (test, cell)
}

func (g *group) title() string {
	run := runTitle(g.Run, g.Index, g.several)
	if g.Package == "" {
		return run
	}
	return g.Package + " · " + run
}

// runTitle names a Run for people: the test that called it, and which of
// its calls it is when it made several.
func runTitle(run string, index int, several bool) string {
	if !several {
		return run
	}
	return fmt.Sprintf("%s (Run %d)", run, max(index, 1))
}

// groupKey keys the records of one Run: its package, its test and which of
// that test's Runs it is.
func groupKey(r report.Record) string {
	return r.Package + "\x00" + r.RunID()
}

// merge checks and merges records. want is the expected shard count, 0 to
// take it from the records.
func merge(recs []report.Record, want int) *results {
	res := &results{counts: map[string]int{}}
	type shardInfo struct {
		selected, cases int
		got             int
	}
	byKey := map[string]*group{}
	shardsOf := map[string]map[int]*shardInfo{}
	problem := func(format string, args ...any) { res.problems = append(res.problems, fmt.Sprintf(format, args...)) }
	get := func(r report.Record) *group {
		k := groupKey(r)
		g := byKey[k]
		if g == nil {
			g = &group{Package: r.Package, Run: r.Run, Index: max(r.RunIndex, 1), cases: map[[2]string]report.Record{}}
			byKey[k] = g
			shardsOf[k] = map[int]*shardInfo{}
			res.groups = append(res.groups, g)
		}
		return g
	}
	parse := func(g *group, s string) (int, bool) {
		sh, err := matrix.ParseShard(s)
		if err != nil || sh.Count == 0 {
			problem("%s: bad shard %q in a record", g.title(), s)
			return 0, false
		}
		switch {
		case g.Shards == 0:
			g.Shards = sh.Count
		case g.Shards != sh.Count:
			problem("%s: records of %d and of %d shards are mixed (reports of different runs?)", g.title(), g.Shards, sh.Count)
			return 0, false
		}
		return sh.Index, true
	}
	for _, r := range recs {
		if r.Kind != report.KindRun && r.Kind != report.KindCase {
			continue
		}
		g := get(r)
		i, ok := parse(g, r.Shard)
		if !ok {
			continue
		}
		k := groupKey(r)
		si := shardsOf[k][i]
		if si == nil {
			si = &shardInfo{cases: -1}
			shardsOf[k][i] = si
		}
		if r.Kind == report.KindRun {
			if r.GoVersion != "" {
				g.GoVersion = r.GoVersion
			}
			if si.cases >= 0 {
				problem("%s: shard %s ran twice (its report is appended to twice?)", g.title(), r.Shard)
			}
			si.selected, si.cases = r.Selected, r.Cases
			continue
		}
		si.got++
		key := [2]string{r.Test, r.Cell}
		if old, dup := g.cases[key]; dup {
			problem("%s: %s reported twice (shards %s and %s)", g.title(), r.Case, old.Shard, r.Shard)
			continue
		}
		g.cases[key] = r
		res.counts[r.Status]++
	}
	sort.Slice(res.groups, func(i, j int) bool {
		a, b := res.groups[i], res.groups[j]
		if a.Package != b.Package {
			return a.Package < b.Package
		}
		if a.Run != b.Run {
			return a.Run < b.Run
		}
		return a.Index < b.Index
	})
	for i, g := range res.groups {
		if i > 0 && res.groups[i-1].Package == g.Package && res.groups[i-1].Run == g.Run {
			res.groups[i-1].several, g.several = true, true
		}
	}
	for _, g := range res.groups {
		k := g.Package + "\x00" + report.RunID(g.Run, g.Index)
		n := g.Shards
		if want > 0 && n != want {
			problem("%s: reports are of %d shards, want %d", g.title(), n, want)
			n = max(n, want)
		}
		var missing []string
		for i := 1; i <= n; i++ {
			si := shardsOf[k][i]
			switch {
			case si == nil || si.cases < 0:
				missing = append(missing, fmt.Sprintf("%d/%d", i, n))
			case si.got != si.cases:
				problem("%s: shard %d/%d reported %d of its %d cases (did it crash or time out?)", g.title(), i, n, si.got, si.cases)
			}
		}
		if len(missing) > 0 {
			problem("%s: no report from shard %s of %d", g.title(), strings.Join(missing, ", "), n)
		}
		tests, cells := map[string]bool{}, map[string]bool{}
		for key := range g.cases {
			tests[key[0]], cells[key[1]] = true, true
		}
		g.Tests, g.Cells = sortedKeys(tests), sortedKeys(cells)
	}
	return res
}

// sortedCases returns the group's records, test by test, cell by cell.
func (g *group) sortedCases() []report.Record {
	var out []report.Record
	for _, t := range g.Tests {
		for _, c := range g.Cells {
			if r, ok := g.cases[[2]string{t, c}]; ok {
				out = append(out, r)
			}
		}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// summary is the one line that heads every form of the report: the cases
// by status and, when there are any, the problems of the merge (a missing
// or incomplete shard fails the suite as a failed case does).
func (r *results) summary() string {
	c := r.counts
	s := fmt.Sprintf("matrixbox: %d passed, %d failed, %d quarantined, %d skipped",
		c[report.StatusPass], c[report.StatusFail], c[report.StatusQuarantined], c[report.StatusSkip])
	switch n := len(r.problems); n {
	case 0:
	case 1:
		s += ", 1 problem with the reports"
	default:
		s += fmt.Sprintf(", %d problems with the reports", n)
	}
	return s
}

// failed reports whether the suite failed: a case failed that is not
// quarantined, or a shard is missing.
func (r *results) failed() bool {
	return r.counts[report.StatusFail] > 0 || len(r.problems) > 0
}

func fmtMS(ms float64) string {
	switch {
	case ms < 1:
		return "<1ms"
	case ms < 1000:
		return fmt.Sprintf("%.0fms", ms)
	case ms < 60_000:
		return fmt.Sprintf("%.1fs", ms/1000)
	default:
		s := int(ms / 1000)
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
}
