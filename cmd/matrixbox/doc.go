// Command matrixbox plans, shards and reports matrixbox suites in CI.
//
//	go install github.com/matrixbox/matrixbox/cmd/matrixbox@latest
//
//	matrixbox plan [-run regexp] [packages]
//	matrixbox ci-matrix [-shards N] [-format github|gitlab|gitlab-matrix] [-timings report.jsonl]... [-plan-out shard-plan.json]
//	matrixbox report [-html report.html] [-junit junit.xml] [-shards N] [-durations=false] results/*.jsonl
//
// plan runs the packages' tests with MATRIXBOX_PLAN set: every
// integration.Run writes the cases it would run and starts nothing (no
// worker is checked, no sandbox opened); tests that do not call Run still
// run, so narrow them with -run. It prints the cells and test counts of
// each package, and how the cases fall into the config's shards.
//
// ci-matrix prints the JSON that GitHub Actions' fromJSON takes for
// strategy.matrix: {"include":[{"shard":"1/4"},…]}; with -format gitlab, a
// hidden job .matrixbox-shards with parallel: N, for a GitLab child
// pipeline whose test job extends it (the jobs' CI_NODE_INDEX and
// CI_NODE_TOTAL give each its shard); with -format gitlab-matrix, the same
// job with a parallel:matrix of MATRIXBOX_SHARD. Given the reports of an
// earlier run (-timings), it balances the shards by the cases' durations
// and writes a shard plan for the jobs to pass in MATRIXBOX_SHARD_PLAN.
//
// report merges the MATRIXBOX_REPORT files of the shards into a Markdown
// grid (tests × cells, then the failures and the skip reasons) for
// $GITHUB_STEP_SUMMARY; with -html, a self-contained HTML heat map; with
// -junit, JUnit XML in the shape gotestsum writes (a testsuite per package,
// a testcase per case with its worker and axis values as properties). The
// shard count comes from the records unless -shards says it. It exits 1
// when a case failed that is not quarantined, or when a shard's report is
// missing or incomplete.
package main
