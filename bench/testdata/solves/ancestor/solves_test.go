// Package ancestor is the bench suite as BuildKit's own harness
// (github.com/moby/buildkit/util/testutil/integration, the version in
// go.mod) runs it with its OCI worker, or with its dockerd workers when
// BENCH_WORKER says dockerd: 50 trivial LLB solves × 2 matrix values. The
// parent benchmark (bench/solve_bench_test.go) runs it as a child go test
// with the daemons on PATH and a distribution `registry`. It lives under
// testdata so that go test ./... does not run it.
package ancestor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/util/testutil/integration"
	"github.com/moby/buildkit/util/testutil/workers"
)

const solves = 50

func init() {
	if strings.HasPrefix(os.Getenv("BENCH_WORKER"), "dockerd") {
		// "dockerd" and "dockerd-containerd": the parent selects one.
		workers.InitDockerdWorker()
		return
	}
	workers.InitOCIWorker()
}

// solveTest is one named test; the ancestor's TestFuncs names tests after
// their functions, which 50 closures do not have.
type solveTest struct {
	name string
	i    int
}

func (s solveTest) Name() string { return s.name }
func (s solveTest) Run(t *testing.T, sb integration.Sandbox) {
	solve(t, sb.Context(), sb.Address(), fmt.Sprintf("%d %v", s.i, sb.Value("n")))
}

func TestSolves(t *testing.T) {
	tests := make([]integration.Test, 0, solves)
	for i := range solves {
		tests = append(tests, solveTest{name: fmt.Sprintf("TestSolve%02d", i), i: i})
	}
	integration.Run(t, tests, integration.WithMatrix("n", map[string]any{"a": 1, "b": 2}))
}

// solve is the same function as the matrixbox suite's.
func solve(t *testing.T, ctx context.Context, addr, content string) {
	t.Helper()
	c, err := client.New(ctx, addr)
	if err != nil {
		t.Fatalf("buildkit client: %v", err)
	}
	defer c.Close()
	def, err := llb.Scratch().File(llb.Mkfile("/f", 0o644, []byte(content))).Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	_, err = c.Solve(ctx, def, client.SolveOpt{
		Exports: []client.ExportEntry{{Type: client.ExporterLocal, OutputDir: out}},
	}, nil)
	if err != nil {
		t.Fatalf("solve: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(out, "f"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != content {
		t.Fatalf("/f = %q, want %q", got, content)
	}
}
