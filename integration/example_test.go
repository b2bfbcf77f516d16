package integration_test

import (
	"testing"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
)

func testHello(t *testing.T, sb sandbox.Sandbox) {
	out, err := sb.Cmd("echo", "hello from", sb.Name()).Output()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", out)
}

// In a _test.go file, Run expands tests × workers × axes into subtests such
// as TestSuite/TestHello/worker=host/size=s.
func ExampleRun() {
	_ = func(t *testing.T) { // func TestSuite(t *testing.T)
		integration.Run(t, integration.TestFuncs(testHello),
			integration.WithAxes(matrix.Strings("size", "s", "l")),
			integration.WithExclude("size=l"),
		)
	}
}
