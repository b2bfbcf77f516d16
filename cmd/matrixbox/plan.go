package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/internal/repoconfig"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/report"
)

func planCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("plan", stderr)
	runRe := fs.String("run", ".", "run only the tests matching this regexp (go test -run)")
	shards := fs.Int("shards", 0, "show how the cases fall into N shards (default: the config's shards)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	pkgs := fs.Args()
	if len(pkgs) == 0 {
		pkgs = []string{"./..."}
	}
	if *shards == 0 {
		if fc, err := findConfig(); err != nil {
			return err
		} else if fc != nil {
			*shards = fc.Shards
		}
	}
	recs, failed, err := collectPlan(*runRe, pkgs, stderr)
	if err != nil {
		return err
	}
	printPlan(stdout, recs, *shards)
	if len(failed) == 0 {
		return nil
	}
	// The plans of the other packages are printed; the failed ones are
	// named, each with why, after their output on stderr.
	for _, f := range failed {
		fmt.Fprintf(stderr, "----- go test %s failed -----\n%s\n", f.pkg, f.output)
	}
	lines := make([]string, len(failed))
	for i, f := range failed {
		lines[i] = fmt.Sprintf("\n\t%s: %s", f.pkg, f.why)
	}
	return fmt.Errorf("go test failed in %d package(s), whose plans may be missing or incomplete above:%s", len(failed), strings.Join(lines, ""))
}

// collectPlan runs go test on pkgs with MATRIXBOX_PLAN set and returns the
// plan records the Runs wrote, and the packages whose go test failed. An
// error is a go test that failed in no package (a bad pattern, a flag).
func collectPlan(runRe string, pkgs []string, stderr io.Writer) ([]report.Record, []failedPackage, error) {
	dir, err := os.MkdirTemp("", "matrixbox-plan-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "plan.jsonl")
	args := append([]string{"test", "-json", "-count=1", "-run", runRe}, pkgs...)
	cmd := exec.Command(goCommand(), args...)
	// 1/1: the plan shows every case, whichever CI job runs it; its own
	// -shards says how they fall into shards.
	cmd.Env = append(os.Environ(), integration.EnvPlan+"="+out, integration.EnvReport+"=", integration.EnvShard+"=1/1", integration.EnvShardPlan+"=")
	var events, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &events, &errs
	var failed []failedPackage
	if runErr := cmd.Run(); runErr != nil {
		if failed = failedPackages(events.Bytes()); len(failed) == 0 {
			fmt.Fprint(stderr, errs.String())
			return nil, nil, fmt.Errorf("go %s: %w", strings.Join(args, " "), runErr)
		}
	}
	recs, err := report.Read(out)
	if errors.Is(err, os.ErrNotExist) {
		return nil, failed, nil
	}
	return recs, failed, err
}

func goCommand() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}

func printPlan(w io.Writer, recs []report.Record, shards int) {
	type runPlan struct {
		pkg, run string
		index    int
		tests    map[string]bool
		cells    []string
		perCell  map[string]int
		cases    []string // by report.CaseKey
	}
	byRun := map[string]*runPlan{}
	var order []*runPlan
	for _, r := range recs {
		if r.Kind != report.KindPlan {
			continue
		}
		k := r.Package + "\x00" + r.RunID()
		rp := byRun[k]
		if rp == nil {
			rp = &runPlan{pkg: r.Package, run: r.Run, index: max(r.RunIndex, 1), tests: map[string]bool{}, perCell: map[string]int{}}
			byRun[k] = rp
			order = append(order, rp)
		}
		rp.tests[r.Test] = true
		if rp.perCell[r.Cell] == 0 {
			rp.cells = append(rp.cells, r.Cell)
		}
		rp.perCell[r.Cell]++
		rp.cases = append(rp.cases, report.CaseKey(r.Package, r.Case))
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if a.pkg != b.pkg {
			return a.pkg < b.pkg
		}
		if a.run != b.run {
			return a.run < b.run
		}
		return a.index < b.index
	})
	runsOf := map[[2]string]int{}
	for _, rp := range order {
		runsOf[[2]string{rp.pkg, rp.run}]++
	}
	total, pkgs := 0, map[string]bool{}
	perShard := make([]int, max(shards, 1))
	lastPkg := ""
	for _, rp := range order {
		if rp.pkg != lastPkg {
			fmt.Fprintln(w, rp.pkg)
			lastPkg = rp.pkg
		}
		pkgs[rp.pkg] = true
		total += len(rp.cases)
		title := runTitle(rp.run, rp.index, runsOf[[2]string{rp.pkg, rp.run}] > 1)
		fmt.Fprintf(w, "  %s: %d tests × %d cells = %d cases\n", title, len(rp.tests), len(rp.cells), len(rp.cases))
		for _, c := range rp.cells {
			fmt.Fprintf(w, "    %-50s %d tests\n", c, rp.perCell[c])
		}
		if shards > 1 {
			for _, sh := range matrix.Assign(report.RunID(rp.run, rp.index), rp.cases, shards) {
				perShard[sh-1]++
			}
		}
	}
	fmt.Fprintf(w, "total: %d cases in %d packages\n", total, len(pkgs))
	if shards > 1 {
		parts := make([]string, shards)
		for i, n := range perShard {
			parts[i] = fmt.Sprintf("%d/%d:%d", i+1, shards, n)
		}
		fmt.Fprintf(w, "cases per shard: %s\n", strings.Join(parts, " "))
	}
}

func findConfig() (*repoconfig.File, error) {
	p, err := repoconfig.Find(".")
	if err != nil || p == "" {
		return nil, err
	}
	return repoconfig.Load(p)
}
