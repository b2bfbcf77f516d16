// Package integration runs a list of tests in every cell of a matrix of
// workers and axes, each case in its own sandbox.
//
//	func TestSuite(t *testing.T) {
//		integration.Run(t, integration.TestFuncs(testBuild, testPush),
//			integration.WithMatrix("color", map[string]any{"red": 1, "blue": 2}))
//	}
//
// Subtest names are <Test>/worker=<w>/<axis>=<value>/..., in declaration
// order, so go test -run and -skip select cells. Cases run in parallel,
// bounded by a process-wide limit (MATRIXBOX_PARALLEL, default GOMAXPROCS);
// a case's logs are printed only when it fails; every cleanup error fails the
// case; a panic fails its case and not the run.
//
// Environment: MATRIXBOX_SELECT keeps matching cells, MATRIXBOX_SHARD=i/n
// keeps one CI shard, MATRIXBOX_PARALLEL bounds live sandboxes,
// MATRIXBOX_LOGS=always prints logs of passing cases too, and
// MATRIXBOX_SKIP_INTEGRATION=1 (like -short) skips every Run.
package integration
