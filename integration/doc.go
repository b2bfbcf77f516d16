// Package integration runs a list of tests in every cell of a matrix of
// workers and axes, each case in its own sandbox.
//
//	func TestSuite(t *testing.T) {
//		integration.Run(t, integration.TestFuncs(testBuild, testPush),
//			integration.WithAxes(matrix.Strings("color", "red", "blue")))
//	}
//
// Subtest names are <Test>/worker=<w>/<axis>=<value>/..., in declaration
// order, so go test -run and -skip select cells. Cases run in parallel,
// bounded by a process-wide limit (MATRIXBOX_PARALLEL, default GOMAXPROCS);
// a case's logs are printed only when it fails; every cleanup error fails the
// case; a panic fails its case and not the run.
//
// Environment: MATRIXBOX_SELECT keeps matching cells, MATRIXBOX_SHARD=i/n
// keeps one CI shard (without it, the shard Bazel, GitLab CI, CircleCI or
// Buildkite gives the job), MATRIXBOX_STRICT=1 fails what would test
// nothing, MATRIXBOX_PARALLEL bounds live sandboxes, MATRIXBOX_LOGS=always
// prints logs of passing cases too, and MATRIXBOX_SKIP_INTEGRATION=1 (like
// -short) skips every Run. A matrixbox.yaml sets for a module what the code
// leaves open (the README's "Configuration").
//
// Each case sets a test attribute (t.Attr) per axis of its cell, the worker
// included. With MATRIXBOX_REPORT set, each Run and case appends a record
// to that file; package report reads and writes those records (it holds
// what this package once exported for them: report.Record, report.Read,
// report.Append, report.ShardPlan, the Kind and Status constants).
//
// MATRIXBOX_REMOTE_BUILDKIT, MATRIXBOX_REMOTE_DOCKERD and
// MATRIXBOX_REMOTE_CONTAINERD add workers on daemons matrixbox did not
// start; MATRIXBOX_KEEP=failed keeps a failing case's backend up, for a
// person to attach to, until MATRIXBOX_KEEP_FOR or Ctrl-C.
package integration
