// Command matrixbox plans, shards and reports matrixbox suites in CI.
//
//	go install github.com/matrixbox/matrixbox/cmd/matrixbox@latest
//
//	matrixbox plan [-run regexp] [packages]
//	matrixbox ci-matrix [-shards N] [-timings report.jsonl]... [-plan-out shard-plan.json]
//	matrixbox report [-html report.html] [-shards N] [-durations=false] results/*.jsonl
//
// plan runs the packages' tests with MATRIXBOX_PLAN set: every
// integration.Run writes the cases it would run and starts nothing (no
// worker is checked, no sandbox opened); tests that do not call Run still
// run, so narrow them with -run. It prints the cells and test counts of
// each package, and how the cases fall into the config's shards.
//
// ci-matrix prints the JSON that GitHub Actions' fromJSON takes for
// strategy.matrix: {"include":[{"shard":"1/4"},…]}. Given the reports of an
// earlier run (-timings), it balances the shards by the cases' durations
// and writes a shard plan for the jobs to pass in MATRIXBOX_SHARD_PLAN.
//
// report merges the MATRIXBOX_REPORT files of the shards into a Markdown
// grid (tests × cells) for $GITHUB_STEP_SUMMARY and, with -html, a
// self-contained HTML heat map. It exits 1 when a case failed that is not
// quarantined, or when a shard's report is missing or incomplete.
package main
