// Package matrixbox is the bench suite as matrixbox runs it: 50 trivial LLB
// solves × 2 matrix values on one worker, buildkitd-oci unless
// BENCH_WORKER names dockerd or dockerd-containerd (on moby BENCH_MOBY).
// The parent benchmark (bench/solve_bench_test.go) runs it as a child go
// test; BENCH_ISOLATION (fresh, shared or reset) picks how every test gets
// its backend. It lives under testdata so that go test ./... does not run
// it on its own.
package matrixbox

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

const solves = 50

func TestSolves(t *testing.T) {
	// The ancestor always runs a registry mirror; so does this side.
	var opts []integration.TestOption
	switch iso := os.Getenv("BENCH_ISOLATION"); iso {
	case "", "fresh":
	case "shared":
		opts = append(opts, integration.SharedBackend())
	case "reset":
		opts = append(opts, integration.ResetBackend())
	default:
		t.Fatalf("BENCH_ISOLATION=%q: want fresh, shared or reset", iso)
	}
	tests := make([]integration.Test, 0, solves)
	for i := range solves {
		tests = append(tests, integration.NewTest(fmt.Sprintf("TestSolve%02d", i), func(t *testing.T, sb sandbox.Sandbox) {
			solve(t, sb.Context(), sb.Address(), fmt.Sprintf("%d %v", i, sb.Value("n")))
		}, opts...))
	}
	integration.Run(t, tests,
		integration.WithWorkers(benchWorker(t)),
		integration.WithMirror(mirror.Shared()),
		integration.WithAxes(matrix.FromMap("n", map[string]any{"a": 1, "b": 2})))
}

// benchWorker is the worker BENCH_WORKER and BENCH_MOBY name.
func benchWorker(t *testing.T) sandbox.Worker {
	var opts []workers.Option
	if v := os.Getenv("BENCH_MOBY"); v != "" {
		opts = append(opts, workers.WithVersions(workers.MobyAxis, v))
	}
	switch w := os.Getenv("BENCH_WORKER"); w {
	case "", "buildkitd-oci":
		return workers.BuildkitdOCI()
	case "dockerd":
		return workers.Dockerd(opts...)
	case "dockerd-containerd":
		return workers.DockerdContainerd(opts...)
	default:
		t.Fatalf("BENCH_WORKER=%q: want buildkitd-oci, dockerd or dockerd-containerd", w)
		return nil
	}
}

// solve writes content to /f of a scratch image, exports it to a local
// directory and checks the file came back.
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
