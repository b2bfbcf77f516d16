// Package fleet is the suite the matrixbox command's tests run as a child
// process: every way a case can end (pass, fail, skipped by the test,
// skipped for a missing feature, skipped for an unavailable worker) on the
// host worker and two axes. FLEET_FAIL=1 makes one test fail;
// FLEET_MISCONFIGURED=1 adds a buildkitd worker whose binary path does not
// exist. It lives under testdata so go test ./... does not run it on its
// own.
package fleet

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

func TestFleet(t *testing.T) {
	ws := []sandbox.Worker{workers.Host(), notInstalled{}}
	if os.Getenv("FLEET_MISCONFIGURED") == "1" {
		ws = append(ws, workers.BuildkitdOCI(workers.WithBinary("/opt/nope/buildkitd")))
	}
	integration.Run(t, []integration.Test{
		integration.NewTest("TestPasses", func(t *testing.T, sb sandbox.Sandbox) {}),
		integration.NewTest("TestSkipsItself", func(t *testing.T, sb sandbox.Sandbox) {
			t.Log("a line before the skip")
			t.Skipf("SKIPPED-BY-THE-TEST in %s", sb.Name())
		}),
		integration.NewTest("TestNeedsFrob", func(t *testing.T, sb sandbox.Sandbox) {}, integration.Requires("frob")),
		integration.NewTest("TestFailsOnRequest", func(t *testing.T, sb sandbox.Sandbox) {
			if os.Getenv("FLEET_FAIL") == "1" {
				t.Errorf("FAILED-ON-REQUEST in %s", sb.Name())
			}
		}),
	},
		integration.WithWorkers(ws...),
		integration.WithAxes(matrix.FromMap("lang", map[string]any{"go": ".go", "rust": ".rs"})),
		integration.WithAxes(matrix.Strings("size", "s", "l")))
}

// notInstalled is a worker whose daemon is not installed on this machine.
type notInstalled struct{}

func (notInstalled) Name() string { return "frobd" }
func (notInstalled) Check() error {
	return errors.New("frobd not found in PATH: apt-get install frobd")
}
func (notInstalled) New(context.Context, *sandbox.Config) (sandbox.Backend, func() error, error) {
	return nil, nil, errors.New("New called on a worker that is not installed")
}
