package report_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/matrixbox/matrixbox/report"
)

func ExampleRead() {
	dir, _ := os.MkdirTemp("", "report-example-")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "report.jsonl")
	_ = report.Append(path,
		report.Record{Kind: report.KindRun, Run: "TestSuite", Shard: "1/1", Selected: 2, Cases: 2},
		report.Record{Kind: report.KindCase, Run: "TestSuite", Shard: "1/1", Case: "TestSuite/TestA/worker=host", Status: report.StatusPass},
		report.Record{Kind: report.KindCase, Run: "TestSuite", Shard: "1/1", Case: "TestSuite/TestB/worker=host", Status: report.StatusSkip, SkipReason: "needs root"},
	)
	recs, err := report.Read(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range recs {
		if r.Kind == report.KindCase {
			fmt.Printf("%s %s %q\n", r.Case, r.Status, r.SkipReason)
		}
	}
	// Output:
	// TestSuite/TestA/worker=host pass ""
	// TestSuite/TestB/worker=host skip "needs root"
}
