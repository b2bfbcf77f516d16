// Package runs is a suite the matrixbox command's tests run: TestTwoRuns
// calls integration.Run twice (4 cases, then 3), as BuildKit's
// TestIntegration calls it five times, and TestOneRun once (1 case), all
// on the host worker. It lives under testdata so go test ./... does not
// run it on its own.
package runs

import (
	"testing"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
)

func TestTwoRuns(t *testing.T) {
	integration.Run(t, integration.TestFuncs(testA, testB), integration.WithAxes(matrix.FromMap("n", map[string]any{"1": 1, "2": 2})))
	integration.Run(t, integration.TestFuncs(testC), integration.WithAxes(matrix.FromMap("m", map[string]any{"x": 1, "y": 2, "z": 3})))
}

func TestOneRun(t *testing.T) {
	integration.Run(t, integration.TestFuncs(testA))
}

func testA(t *testing.T, sb sandbox.Sandbox) {}
func testB(t *testing.T, sb sandbox.Sandbox) {}
func testC(t *testing.T, sb sandbox.Sandbox) {}
