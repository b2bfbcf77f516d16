// Package compatsuite is a suite written for BuildKit's harness, moved to
// matrixbox's compat layer, that packages compata and compatb both run
// from their TestIntegration, for the matrixbox command's tests: it calls
// Run twice (2 cases, then 2), on the host worker.
package compatsuite

import (
	"testing"

	"github.com/matrixbox/matrixbox/compat/buildkit/integration"
	"github.com/matrixbox/matrixbox/workers"
)

func init() { integration.Register(workers.Host()) }

// Run runs the suite under t.
func Run(t *testing.T) {
	integration.Run(t, integration.TestFuncs(testOne, testTwo))
	integration.Run(t, integration.TestFuncs(testThree), integration.WithMatrix("mode", map[string]any{"a": "a", "b": "b"}))
}

func testOne(t *testing.T, sb integration.Sandbox)   {}
func testTwo(t *testing.T, sb integration.Sandbox)   {}
func testThree(t *testing.T, sb integration.Sandbox) {}
