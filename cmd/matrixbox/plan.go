package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/matrixbox/matrixbox/integration"
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
	recs, err := collectPlan(*runRe, pkgs, stderr)
	if err != nil {
		return err
	}
	printPlan(stdout, recs, *shards)
	return nil
}

// collectPlan runs go test on pkgs with MATRIXBOX_PLAN set and returns the
// plan records the Runs wrote.
func collectPlan(runRe string, pkgs []string, stderr io.Writer) ([]report.Record, error) {
	dir, err := os.MkdirTemp("", "matrixbox-plan-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "plan.jsonl")
	args := append([]string{"test", "-count=1", "-run", runRe}, pkgs...)
	cmd := exec.Command(goCommand(), args...)
	// 1/1: the plan shows every case, whichever CI job runs it; its own
	// -shards says how they fall into shards.
	cmd.Env = append(os.Environ(), integration.EnvPlan+"="+out, integration.EnvReport+"=", integration.EnvShard+"=1/1", integration.EnvShardPlan+"=")
	var buf strings.Builder
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		fmt.Fprint(stderr, buf.String())
		return nil, fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	recs, err := report.Read(out)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return recs, err
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
		tests    map[string]bool
		cells    []string
		perCell  map[string]int
		cases    []string
	}
	byRun := map[string]*runPlan{}
	var order []string
	for _, r := range recs {
		if r.Kind != report.KindPlan {
			continue
		}
		k := r.Package + " " + r.Run
		rp := byRun[k]
		if rp == nil {
			rp = &runPlan{pkg: r.Package, run: r.Run, tests: map[string]bool{}, perCell: map[string]int{}}
			byRun[k] = rp
			order = append(order, k)
		}
		rp.tests[r.Test] = true
		if rp.perCell[r.Cell] == 0 {
			rp.cells = append(rp.cells, r.Cell)
		}
		rp.perCell[r.Cell]++
		rp.cases = append(rp.cases, r.Case)
	}
	sort.Strings(order)
	total, pkgs := 0, map[string]bool{}
	perShard := make([]int, max(shards, 1))
	lastPkg := ""
	for _, k := range order {
		rp := byRun[k]
		if rp.pkg != lastPkg {
			fmt.Fprintln(w, rp.pkg)
			lastPkg = rp.pkg
		}
		pkgs[rp.pkg] = true
		total += len(rp.cases)
		fmt.Fprintf(w, "  %s: %d tests × %d cells = %d cases\n", rp.run, len(rp.tests), len(rp.cells), len(rp.cases))
		for _, c := range rp.cells {
			fmt.Fprintf(w, "    %-50s %d tests\n", c, rp.perCell[c])
		}
		if shards > 1 {
			for _, sh := range matrix.Assign(rp.run, rp.cases, shards) {
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

func findConfig() (*integration.FileConfig, error) {
	p, err := integration.FindConfig(".")
	if err != nil || p == "" {
		return nil, err
	}
	return integration.LoadConfig(p)
}
