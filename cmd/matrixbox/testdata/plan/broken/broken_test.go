// Package broken is a suite whose go test fails, for matrixbox plan's
// tests: TestPlanned plans one case, TestBroken fails. It lives under
// testdata so go test ./... does not run it on its own.
package broken

import (
	"testing"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/sandbox"
)

func TestPlanned(t *testing.T) {
	integration.Run(t, integration.TestFuncs(testPlanned))
}

func testPlanned(t *testing.T, sb sandbox.Sandbox) {}

func TestBroken(t *testing.T) {
	t.Fatal("BROKEN-ON-PURPOSE")
}
