package main

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"

	"github.com/matrixbox/matrixbox/report"
)

// The heat map is one SVG, laid out here in page pixels so that the test
// can check the rendered picture at each cell's position.
const (
	cellW, cellH = 46, 30
	margin       = 16
	charW        = 7.2  // width of a 12px monospace character
	titleCharW   = 11.5 // width of a 20px proportional character, generously
	titleH       = 28
)

type box struct {
	X, Y, W, H float64
	Test, Cell string
	Rec        *report.Record // nil: not run
	Fill       string
}

type heatLabel struct {
	X, Y   float64
	Text   string
	Rotate bool
	Class  string
}

type heatLayout struct {
	W, H   float64
	Boxes  []box
	Labels []heatLabel
}

var statusFill = map[string]string{
	report.StatusFail:        "#cf222e",
	report.StatusQuarantined: "#e3a008",
	report.StatusSkip:        "#b8bec6",
}

// passFill shades passes from light (fast) to dark green (slow), on a log
// scale between the fastest and slowest pass of the report.
func passFill(ms, lo, hi float64) string {
	f := 0.0
	if hi > lo {
		f = (math.Log1p(ms) - math.Log1p(lo)) / (math.Log1p(hi) - math.Log1p(lo))
	}
	mix := func(a, b float64) int { return int(a + (b-a)*f) }
	return fmt.Sprintf("#%02x%02x%02x", mix(0xc8, 0x1a), mix(0xf0, 0x7f), mix(0xc0, 0x37))
}

func layout(res *results) heatLayout {
	lo, hi := math.Inf(1), 0.0
	for _, g := range res.groups {
		for _, r := range g.cases {
			if r.Status == report.StatusPass {
				lo, hi = math.Min(lo, r.DurationMS), math.Max(hi, r.DurationMS)
			}
		}
	}
	var l heatLayout
	y := float64(margin + titleH + 44)
	for _, g := range res.groups {
		l.Labels = append(l.Labels, heatLabel{X: margin, Y: y, Text: g.title(), Class: "group"})
		l.W = math.Max(l.W, 2*margin+float64(len(g.title()))*titleCharW/1.4)
		y += 12
		labelW := 0.0
		for _, t := range g.Tests {
			labelW = math.Max(labelW, float64(len(t))*charW)
		}
		headH := 0.0
		for _, c := range g.Cells {
			headH = math.Max(headH, float64(len(c))*charW*0.72)
		}
		x0, y0 := margin+labelW+12, y+headH+8
		for j, c := range g.Cells {
			l.Labels = append(l.Labels, heatLabel{X: x0 + float64(j)*cellW + cellW/2, Y: y0 - 6, Text: c, Rotate: true, Class: "cell"})
		}
		for i, t := range g.Tests {
			ty := y0 + float64(i)*cellH
			l.Labels = append(l.Labels, heatLabel{X: x0 - 8, Y: ty + cellH/2 + 4, Text: t, Class: "test"})
			for j, c := range g.Cells {
				b := box{X: x0 + float64(j)*cellW, Y: ty, W: cellW - 2, H: cellH - 2, Test: t, Cell: c, Fill: "#ffffff"}
				if r, ok := g.cases[[2]string{t, c}]; ok {
					b.Rec = &r
					b.Fill = statusFill[r.Status]
					if r.Status == report.StatusPass {
						b.Fill = passFill(r.DurationMS, lo, hi)
					}
				}
				l.Boxes = append(l.Boxes, b)
			}
		}
		l.W = math.Max(l.W, x0+float64(len(g.Cells))*cellW+margin)
		y = y0 + float64(len(g.Tests))*cellH + 32
	}
	// The title is the widest text of a small report.
	l.W = math.Max(l.W, 2*margin+float64(len(res.summary()))*titleCharW)
	l.H = y + 40
	return l
}

func esc(s string) string { return html.EscapeString(s) }

// writeHTML writes a page with no external assets: inline CSS and one SVG.
func writeHTML(w io.Writer, res *results) error {
	l := layout(res)
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>` + esc(res.summary()) + `</title>
<style>
body{margin:0;font-family:system-ui,sans-serif;background:#fff;color:#1f2328}
svg text{font-family:ui-monospace,monospace;font-size:12px;fill:#1f2328}
svg text.group{font-family:system-ui,sans-serif;font-size:14px;font-weight:600}
svg text.title{font-family:system-ui,sans-serif;font-size:20px;font-weight:600}
svg text.title.failed{fill:#cf222e}
svg text.dur{font-size:9px;fill:#fff;pointer-events:none}
svg text.dur.light{fill:#1f2328}
svg text.cell{font-size:10px}
svg rect.case:hover{stroke:#0969da;stroke-width:2}
.problems{margin:0 16px;color:#cf222e}
</style></head><body>
`)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" aria-label="matrixbox heat map">`+"\n", l.W, l.H, l.W, l.H)
	title := "title"
	if res.failed() {
		title += " failed"
	}
	fmt.Fprintf(&b, `<text class="%s" x="%d" y="%d">%s</text>`+"\n", title, margin, margin+titleH-8, esc(res.summary()))
	// Legend.
	lx := float64(margin)
	for _, it := range []struct{ fill, text string }{{passFill(0, 0, 1), "pass (fast)"}, {passFill(1, 0, 1), "pass (slow)"}, {statusFill["fail"], "fail"}, {statusFill["quarantined"], "quarantined"}, {statusFill["skip"], "skip"}, {"#ffffff", "not run"}} {
		fmt.Fprintf(&b, `<rect x="%.0f" y="%d" width="12" height="12" fill="%s" stroke="#8c959f"/><text x="%.0f" y="%d">%s</text>`+"\n", lx, margin+titleH, it.fill, lx+16, margin+titleH+10, it.text)
		lx += 16 + float64(len(it.text))*charW + 16
	}
	for _, lb := range l.Labels {
		switch {
		case lb.Rotate:
			fmt.Fprintf(&b, `<text class="%s" transform="translate(%.1f %.1f) rotate(-45)">%s</text>`+"\n", lb.Class, lb.X, lb.Y, esc(lb.Text))
		case lb.Class == "test":
			fmt.Fprintf(&b, `<text class="test" x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", lb.X, lb.Y, esc(lb.Text))
		default:
			fmt.Fprintf(&b, `<text class="%s" x="%.1f" y="%.1f">%s</text>`+"\n", lb.Class, lb.X, lb.Y, esc(lb.Text))
		}
	}
	for _, bx := range l.Boxes {
		status, tip, stroke := "not-run", bx.Test+" · "+bx.Cell+": not run", `stroke="#d0d7de"`
		if r := bx.Rec; r != nil {
			status = r.Status
			tip = fmt.Sprintf("%s\n%s · %s", r.Case, r.Status, fmtMS(r.DurationMS))
			if r.StartupMS > 0 {
				tip += fmt.Sprintf(" (sandbox start-up %s)", fmtMS(r.StartupMS))
			}
			if r.Attempts > 1 {
				tip += fmt.Sprintf(" · %d attempts", r.Attempts)
			}
			if r.SkipReason != "" {
				tip += "\n" + r.SkipReason
			}
			if r.Quarantine != nil {
				tip += "\nquarantined: " + r.Quarantine.Reason + " " + r.Quarantine.URL
				stroke = `stroke="#e3a008" stroke-width="3"`
			} else {
				stroke = ""
			}
		}
		fmt.Fprintf(&b, `<rect class="case" data-test="%s" data-cell="%s" data-status="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="3" fill="%s" %s><title>%s</title></rect>`+"\n",
			esc(bx.Test), esc(bx.Cell), status, bx.X, bx.Y, bx.W, bx.H, bx.Fill, stroke, esc(tip))
		if bx.Rec != nil && bx.Rec.Status != report.StatusSkip {
			class := "dur"
			if light(bx.Fill) {
				class += " light"
			}
			fmt.Fprintf(&b, `<text class="%s" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", class, bx.X+bx.W/2, bx.Y+bx.H/2+3, fmtMS(bx.Rec.DurationMS))
		}
	}
	b.WriteString("</svg>\n")
	if len(res.problems) > 0 {
		b.WriteString(`<ul class="problems">`)
		for _, p := range res.problems {
			fmt.Fprintf(&b, "<li>%s</li>", esc(p))
		}
		b.WriteString("</ul>\n")
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// light reports whether text on fill "#rrggbb" should be dark.
func light(fill string) bool {
	var r, g, b int
	if _, err := fmt.Sscanf(fill, "#%02x%02x%02x", &r, &g, &b); err != nil {
		return false
	}
	return 299*r+587*g+114*b > 150_000
}
