package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/matrixbox/matrixbox/report"
)

var statusMark = map[string]string{
	report.StatusPass:        "✅",
	report.StatusFail:        "❌",
	report.StatusSkip:        "⏭️",
	report.StatusQuarantined: "🟡",
}

// writeMarkdown writes the grid of every Run, then the failures, the
// quarantined cases and the problems of the merge.
func writeMarkdown(w io.Writer, res *results, durations bool) {
	fmt.Fprintf(w, "## %s\n\n", res.summary())
	for _, p := range res.problems {
		fmt.Fprintf(w, "> **⚠️ %s**\n>\n", p)
	}
	if len(res.problems) > 0 {
		fmt.Fprintln(w)
	}
	var failures, quarantined, liftable, skipped []report.Record
	for _, g := range res.groups {
		fmt.Fprintf(w, "### %s\n\n| test |", g.title())
		for _, cell := range g.Cells {
			fmt.Fprintf(w, " %s |", strings.ReplaceAll(cell, "/", "<br>"))
		}
		fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---|", len(g.Cells)))
		for _, t := range g.Tests {
			fmt.Fprintf(w, "| %s |", t)
			for _, cell := range g.Cells {
				r, ok := g.cases[[2]string{t, cell}]
				if !ok {
					fmt.Fprint(w, " · |")
					continue
				}
				s := statusMark[r.Status]
				if s == "" {
					s = r.Status
				}
				if r.Attempts > 1 {
					s += fmt.Sprintf(" ×%d", r.Attempts)
				}
				if durations && r.Status != report.StatusSkip {
					s += " " + fmtMS(r.DurationMS)
				}
				fmt.Fprintf(w, " %s |", s)
				switch {
				case r.Status == report.StatusFail:
					failures = append(failures, r)
				case r.Status == report.StatusQuarantined:
					quarantined = append(quarantined, r)
				case r.Quarantine != nil && r.Status == report.StatusPass:
					liftable = append(liftable, r)
				case r.Status == report.StatusSkip:
					skipped = append(skipped, r)
				}
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "✅ pass · ❌ fail · ⏭️ skip · 🟡 quarantined (failed, does not fail the run) · ×N attempts · `·` not run")
	list := func(title string, rs []report.Record, line func(report.Record) string) {
		if len(rs) == 0 {
			return
		}
		fmt.Fprintf(w, "\n**%s**\n\n", title)
		for _, r := range rs {
			fmt.Fprintf(w, "- %s\n", line(r))
		}
	}
	list("Failed", failures, func(r report.Record) string {
		line := fmt.Sprintf("`%s` (%s)", r.Case, r.Package)
		if first := firstLine(r.Output); first != "" {
			line += ": " + first
		}
		return line
	})
	list("Quarantined", quarantined, func(r report.Record) string {
		return fmt.Sprintf("`%s`: [%s](%s), %d attempts", r.Case, r.Quarantine.Reason, r.Quarantine.URL, r.Attempts)
	})
	list("Quarantined but passing: the quarantine may be lifted", liftable, func(r report.Record) string {
		return fmt.Sprintf("`%s`: %s", r.Case, r.Quarantine.URL)
	})
	writeSkips(w, skipped)
}

// writeSkips lists why cases were skipped, one line per reason (a worker
// that is not installed skips all its cells for one reason).
func writeSkips(w io.Writer, skipped []report.Record) {
	if len(skipped) == 0 {
		return
	}
	var reasons []string
	cases := map[string][]string{}
	for _, r := range skipped {
		reason := r.SkipReason
		if reason == "" {
			reason = "no reason recorded"
		}
		if cases[reason] == nil {
			reasons = append(reasons, reason)
		}
		cases[reason] = append(cases[reason], r.Case)
	}
	fmt.Fprintf(w, "\n**Skipped**\n\n")
	for _, reason := range reasons {
		cs := cases[reason]
		if len(cs) == 1 {
			fmt.Fprintf(w, "- `%s`: %s\n", cs[0], mdLine(reason))
			continue
		}
		example := fmt.Sprintf("`%s`", cs[0])
		fmt.Fprintf(w, "- %d cases (%s, …): %s\n", len(cs), example, mdLine(reason))
	}
}

// mdLine keeps a reason on one line of a Markdown list.
func mdLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return mdLine(l)
		}
	}
	return ""
}
