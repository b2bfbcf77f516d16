// Package report reads and writes what matrixbox suites record of a run:
// the JSON lines that integration.Run appends to MATRIXBOX_REPORT (one
// [Record] per Run and per case) and to MATRIXBOX_PLAN (one per case it
// would run), and the shard plans ([ShardPlan]) that matrixbox ci-matrix
// -timings writes for MATRIXBOX_SHARD_PLAN.
//
// A test author never needs it; the matrixbox command and tools that read
// reports do:
//
//	recs, err := report.Read("results/shard-1.jsonl")
//	for _, r := range recs {
//		if r.Kind == report.KindCase && r.Status == report.StatusFail {
//			fmt.Println(r.Case, r.Output)
//		}
//	}
package report
