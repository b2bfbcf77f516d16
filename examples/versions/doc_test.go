// Package versions runs the same tests on several versions of each daemon:
// buildkitd v0.34.2 and v0.28.0 (both built from the Go module proxy),
// containerd v2.4.2 (built) and v1.6 (Debian 12's), alone and under
// buildkitd. A worker's versions are
// axes of its own, right after it in each cell's name
// (TestVersions/TestReportsItsVersion/worker=buildkitd-oci/buildkit=v0.28.0),
// and every cell checks that its daemon really is that version.
// TestNeedsNewBuildKit requires BuildKit v0.30.0 or later, so its
// buildkit=v0.28.0 cell is skipped before any daemon starts.
//
//	go run github.com/matrixbox/matrixbox/cmd/matrixbox install   # as root: the default versions
//	go test ./examples/versions -v
//	MATRIXBOX_SELECT=buildkit=v0.28.* go test ./examples/versions -v
//
// A version that is not installed skips its cells with the command that
// installs it.
package versions
