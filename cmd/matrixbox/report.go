package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/matrixbox/matrixbox/report"
)

var errFailed = errors.New("the suite failed")

func reportCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", stderr)
	htmlOut := fs.String("html", "", "also write a self-contained HTML heat map to this file")
	junitOut := fs.String("junit", "", "also write JUnit XML, in the shape gotestsum writes, to this file")
	shards := fs.Int("shards", 0, "the number of shards expected (default: as recorded in the reports)")
	durations := fs.Bool("durations", true, "show durations in the Markdown grid")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{errors.New("give the report files, e.g. results/*.jsonl")}
	}
	var recs []report.Record
	for _, f := range fs.Args() {
		rs, err := report.Read(f)
		if err != nil {
			return err
		}
		recs = append(recs, rs...)
	}
	res := merge(recs, *shards)
	if len(res.groups) == 0 {
		res.problems = append(res.problems, fmt.Sprintf("no matrixbox records in %q", fs.Args()))
	}
	writeMarkdown(stdout, res, *durations)
	for _, out := range []struct {
		path  string
		write func(io.Writer, *results) error
	}{{*htmlOut, writeHTML}, {*junitOut, writeJUnit}} {
		if out.path == "" {
			continue
		}
		f, err := os.Create(out.path)
		if err != nil {
			return err
		}
		if err := errors.Join(out.write(f, res), f.Close()); err != nil {
			return fmt.Errorf("write %s: %w", out.path, err)
		}
	}
	if res.failed() {
		for _, p := range res.problems {
			fmt.Fprintln(stderr, "matrixbox report: "+p)
		}
		return fmt.Errorf("%w: %d failed case(s), %d problem(s) with the reports", errFailed, res.counts[report.StatusFail], len(res.problems))
	}
	return nil
}
