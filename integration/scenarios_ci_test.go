package integration

import (
	"os"
	"testing"

	"github.com/matrixbox/matrixbox/internal/hostworker"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/matrix/platform"
)

// The child scenarios of the CI-fleet tests: shards, strict mode and a
// root config.
func init() {
	scenarios["one"] = func(t *testing.T) {
		Run(t, TestFuncs(testNothing))
	}
	// Two suites of one module that differ in workers and axes, under one
	// root config (testdata/config/root.yaml).
	scenarios["module"] = func(t *testing.T) {
		registerAxisDecoder(platform.AxisName, platform.DecodeValue)
		t.Run("WithPlatforms", func(t *testing.T) {
			axis, err := platform.Axis("linux/amd64", "linux/arm64", "linux/riscv64")
			if err != nil {
				t.Fatal(err)
			}
			Run(t, TestFuncs(testNothing),
				WithWorkers(hostworker.New(), countingWorker{name: "second"}),
				WithAxes(axis))
		})
		t.Run("HostOnly", func(t *testing.T) {
			Run(t, TestFuncs(testNothing), WithAxes(matrix.Strings("color", "red", "blue")))
		})
	}
	// Two Runs, and what the process's environment says of Bazel's
	// sharding once the package has taken it over.
	scenarios["bazel"] = func(t *testing.T) {
		t.Logf("TEST_TOTAL_SHARDS=%q", os.Getenv("TEST_TOTAL_SHARDS"))
		for _, name := range []string{"first", "second"} {
			t.Run(name, func(t *testing.T) {
				Run(t, TestFuncs(testNothing, testAlsoNothing), WithAxes(matrix.FromMap("n", map[string]any{"1": 1, "2": 2, "3": 3})))
			})
		}
	}
}
