package main

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/report"
)

// sampleResults has every status, a quarantined pass, a cell a test did not
// run in, and two Runs.
func sampleResults() *results {
	var recs []report.Record
	add := func(run, test, cell, status string, ms float64, q bool) {
		r := report.Record{Kind: report.KindCase, Package: "example.com/suite", Run: run, Shard: "1/1",
			Test: test, Case: run + "/" + test + "/" + cell, Cell: cell, Status: status, DurationMS: ms, Attempts: 1}
		if q {
			r.Quarantine = &report.QuarantineRef{URL: "https://example.com/issues/7", Reason: "flaky <b>&"}
		}
		recs = append(recs, r)
	}
	cells := []string{"worker=host/distro=debian-11", "worker=host/distro=debian-12", "worker=dockerd/distro=debian-12"}
	add("TestImages", "TestBuild", cells[0], report.StatusPass, 12, false)
	add("TestImages", "TestBuild", cells[1], report.StatusPass, 4200, false)
	add("TestImages", "TestBuild", cells[2], report.StatusFail, 800, false)
	add("TestImages", "TestPush", cells[0], report.StatusQuarantined, 3000, true)
	add("TestImages", "TestPush", cells[1], report.StatusPass, 90, true)
	add("TestImages", "TestPush", cells[2], report.StatusSkip, 0, false)
	add("TestImages", "TestInspect", cells[1], report.StatusPass, 1, false)
	add("TestQemu", "TestInfo", "worker=host/qemu=7.2", report.StatusPass, 55, false)
	add("TestQemu", "TestInfo", "worker=host/qemu=10.0", report.StatusPass, 65000, false)
	for _, run := range []string{"TestImages", "TestQemu"} {
		recs = append(recs, report.Record{Kind: report.KindRun, Package: "example.com/suite", Run: run, Shard: "1/1"})
	}
	return merge(recs, 0)
}

func TestHTMLHasNoExternalAssets(t *testing.T) {
	var b bytes.Buffer
	if err := writeHTML(&b, sampleResults()); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"<script src", "<link", "@import", "url(", "<img"} {
		if strings.Contains(page, bad) {
			t.Errorf("page has %q: it must be self-contained", bad)
		}
	}
	if strings.Contains(page, "<b>&") || !strings.Contains(page, "flaky &lt;b&gt;&amp;") {
		t.Error("a reason is not escaped")
	}
}

// TestHTMLInChromium renders the heat map with headless Chromium and checks
// that the DOM holds every cell of the grid and that the picture shows each
// one in its status's colour.
func TestHTMLInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (Debian package chromium): cannot render the HTML report")
	}
	res := sampleResults()
	l := layout(res)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeHTML(f, res); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	browse := func(args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		profile, err := os.MkdirTemp(dir, "profile")
		if err != nil {
			t.Fatal(err)
		}
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
			"--no-first-run", "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile,
			"--hide-scrollbars", "--force-device-scale-factor=1"}
		cmd := exec.CommandContext(ctx, chromium, append(append(base, args...), "file://"+page)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
		}
		return stdout.Bytes()
	}

	dom := string(browse("--dump-dom"))
	cases := 0
	for _, g := range res.groups {
		for _, test := range g.Tests {
			for _, cell := range g.Cells {
				status := "not-run"
				if r, ok := g.cases[[2]string{test, cell}]; ok {
					status = r.Status
					cases++
				}
				want := fmt.Sprintf(`data-test="%s" data-cell="%s" data-status="%s"`, test, cell, status)
				if !strings.Contains(dom, want) {
					t.Errorf("the rendered DOM has no cell %s", want)
				}
			}
		}
	}
	if got := strings.Count(dom, `class="case"`); got != len(l.Boxes) {
		t.Errorf("DOM has %d cells, want %d", got, len(l.Boxes))
	}
	if cases != 9 {
		t.Errorf("%d cases in the grid, want 9", cases)
	}

	shot := filepath.Join(dir, "shot.png")
	// Without the compositor flag, a loaded machine once got a screenshot
	// whose last rows were not painted yet.
	browse(fmt.Sprintf("--window-size=%d,%d", int(math.Ceil(l.W)), int(math.Ceil(l.H))), "--run-all-compositor-stages-before-draw", "--screenshot="+shot)
	pf, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	img, err := png.Decode(pf)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range l.Boxes {
		var wr, wg, wb int
		fmt.Sscanf(b.Fill, "#%02x%02x%02x", &wr, &wg, &wb)
		x, y := int(b.X)+6, int(b.Y)+6
		r, g, bl, _ := img.At(x, y).RGBA()
		gr, gg, gb := int(r>>8), int(g>>8), int(bl>>8)
		if abs(gr-wr) > 12 || abs(gg-wg) > 12 || abs(gb-wb) > 12 {
			t.Errorf("cell %s %s at (%d,%d) is #%02x%02x%02x on screen, want %s", b.Test, b.Cell, x, y, gr, gg, gb, b.Fill)
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestTitleCountsProblems: a run with no failed case whose reports have a
// problem (a shard that reported fewer cases than it announced) fails the
// suite, and the title of the heat map and of the Markdown says so instead
// of "0 failed" above a list of problems out of sight (issue 22).
func TestTitleCountsProblems(t *testing.T) {
	res := merge([]report.Record{
		{Kind: report.KindRun, Package: "example.com/suite", Run: "TestS", Shard: "1/1", Selected: 2, Cases: 2},
		{Kind: report.KindCase, Package: "example.com/suite", Run: "TestS", Shard: "1/1", Test: "TestA", Case: "TestS/TestA/worker=host", Cell: "worker=host", Status: report.StatusPass},
	}, 0)
	if !res.failed() || res.counts[report.StatusFail] != 0 {
		t.Fatalf("failed=%v with %d failed cases: the sample must fail by its problem alone", res.failed(), res.counts[report.StatusFail])
	}
	const want = "matrixbox: 1 passed, 0 failed, 0 quarantined, 0 skipped, 1 problem with the reports"
	var b bytes.Buffer
	if err := writeHTML(&b, res); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, s := range []string{"<title>" + want + "</title>", `<text class="title failed" x="16" y="36">` + want + "</text>"} {
		if !strings.Contains(page, s) {
			t.Errorf("the page lacks %s", s)
		}
	}
	b.Reset()
	writeMarkdown(&b, res, false)
	if !strings.HasPrefix(b.String(), "## "+want+"\n") {
		t.Errorf("Markdown starts\n%s\nwant ## %s", b.String(), want)
	}
}
