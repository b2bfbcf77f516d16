package bench

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/internal/daemons"
	"github.com/matrixbox/matrixbox/internal/testkit"
)

// solveCases is the size of the bench suite: 50 solves × 2 matrix values.
const solveCases = 100

// passLine matches the PASS line of one case of either fixture, whose names
// are TestSolves/TestSolveNN/worker=<w>/n=<a|b> in both harnesses.
var passLine = regexp.MustCompile(`(?m)^\s*--- PASS: TestSolves/TestSolve\d+/worker=\S+/n=[ab] \(`)

// BenchmarkSolveSuite runs the same 100-case suite (50 trivial LLB solves ×
// 2 matrix values on buildkitd with the OCI worker) four ways, each as a
// child go test process timed from start to exit:
//
//   - ancestor: BuildKit's util/testutil/integration with its OCI worker (a
//     fresh buildkitd per case);
//   - fresh: matrixbox, workers.BuildkitdOCI, a fresh buildkitd per case;
//   - reset: the same suite with every test ResetBackend: warm buildkitds,
//     wiped and proven empty between cases;
//   - shared: every test SharedBackend, one warm buildkitd per cell.
//
// It reports each wall time and the ratios the targets are stated in:
// fresh/ancestor, ancestor/reset and ancestor/shared. The four run in turn
// within each iteration so that drift in the machine's load falls on all
// of them. It skips without root, buildkitd, runc or a distribution
// `registry` binary (which the ancestor's mirror runs).
func BenchmarkSolveSuite(b *testing.B) {
	env := solveEnv(b)
	dir := b.TempDir()
	ancestor := buildFixture(b, dir, "solves/ancestor")
	mbox := buildFixture(b, dir, "solves/matrixbox")

	var tAnc, tFresh, tReset, tShared time.Duration
	for i := 0; i < b.N; i++ {
		tAnc += runFixture(b, ancestor, env.ancestor)
		tFresh += runFixture(b, mbox, env.matrixbox(b, "fresh"))
		tReset += runFixture(b, mbox, env.matrixbox(b, "reset"))
		tShared += runFixture(b, mbox, env.matrixbox(b, "shared"))
	}
	n := float64(b.N)
	b.ReportMetric(tAnc.Seconds()/n, "ancestor-s/op")
	b.ReportMetric(tFresh.Seconds()/n, "fresh-s/op")
	b.ReportMetric(tReset.Seconds()/n, "reset-s/op")
	b.ReportMetric(tShared.Seconds()/n, "shared-s/op")
	b.ReportMetric(tFresh.Seconds()/tAnc.Seconds(), "fresh/ancestor")
	b.ReportMetric(tAnc.Seconds()/tReset.Seconds(), "ancestor/reset")
	b.ReportMetric(tAnc.Seconds()/tShared.Seconds(), "ancestor/shared")
	b.Logf("%d cases: ancestor %.1fs, matrixbox fresh %.1fs (%.2f× the ancestor's time), reset %.1fs (%.1f× faster), shared %.1fs (%.1f× faster)",
		solveCases, tAnc.Seconds()/n, tFresh.Seconds()/n, tFresh.Seconds()/tAnc.Seconds(),
		tReset.Seconds()/n, tAnc.Seconds()/tReset.Seconds(),
		tShared.Seconds()/n, tAnc.Seconds()/tShared.Seconds())
}

type solveEnvs struct {
	ancestor []string
	base     []string
}

// solveEnv checks what the suites need and returns the children's
// environments: the caller's, without MATRIXBOX_* settings that would make
// the two harnesses run differently (parallelism, selection, shards, a
// report); the ancestor's gets a PATH with buildkitd and registry on it.
func solveEnv(b *testing.B) solveEnvs {
	b.Helper()
	if testing.Short() {
		b.Skip("the solve suite starts 300 buildkitd daemons; not in -short")
	}
	if os.Getuid() != 0 {
		b.Skip("the solve suite runs buildkitd as root")
	}
	// The ancestor finds buildkitd, runc and registry on PATH: the
	// default releases of matrixbox's version table, as matrixbox's own
	// workers run them.
	pathDir := b.TempDir()
	for _, r := range []daemons.Release{daemons.Default(daemons.BuildKit), daemons.Default(daemons.Registry)} {
		if err := r.Installed(); err != nil {
			b.Skipf("the ancestor's OCI worker and mirror need it: %v", err)
		}
		for _, bin := range r.Binaries {
			if err := os.Symlink(r.Path(bin.Name), filepath.Join(pathDir, bin.Name)); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := exec.LookPath("runc"); err != nil {
		b.Skip("runc not on PATH (apt-get install runc): the ancestor's OCI worker needs it")
	}

	var base []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "MATRIXBOX_") && k != "MATRIXBOX_BIN" {
			continue
		}
		if k == "BUILDKIT_REGISTRY_MIRROR_DIR" || k == "BUILDKIT_WORKER_RANDOM" || k == "SKIP_INTEGRATION_TESTS" {
			continue
		}
		base = append(base, kv)
	}
	anc := append([]string(nil), base...)
	for i, kv := range anc {
		if p, ok := strings.CutPrefix(kv, "PATH="); ok {
			anc[i] = "PATH=" + pathDir + string(os.PathListSeparator) + p
		}
	}
	return solveEnvs{ancestor: anc, base: append(base, "MATRIXBOX_CONFIG=none")}
}

// matrixbox returns the matrixbox child's environment: a mirror directory of
// its own (the ancestor's mirror is a fresh temp dir too) and the isolation.
func (e solveEnvs) matrixbox(b *testing.B, isolation string) []string {
	b.Helper()
	env := append([]string(nil), e.base...)
	return append(env, "MATRIXBOX_MIRROR_DIR="+b.TempDir(), "BENCH_ISOLATION="+isolation)
}

// buildFixture compiles the fixture package at ./testdata/<pkg> outside
// the timed part.
func buildFixture(b *testing.B, dir, pkg string) string {
	b.Helper()
	name := filepath.Base(pkg)
	out := filepath.Join(dir, name+".test")
	if err := testkit.CompileTest("./testdata/"+pkg, out); err != nil {
		b.Fatalf("build the %s fixture: %v", name, err)
	}
	return out
}

// runFixture runs a fixture binary and returns its wall time. The suite
// must pass with exactly solveCases passing cases: a harness that skipped
// its cases would otherwise look fast.
func runFixture(b *testing.B, bin string, env []string) time.Duration {
	b.Helper()
	cmd := exec.Command(bin, "-test.run", "^TestSolves$", "-test.count=1", "-test.v", "-test.timeout=20m")
	cmd.Env = env
	cmd.Dir = b.TempDir()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		b.Fatalf("%s: %v\n%s", filepath.Base(bin), err, testkit.Tail(out.String(), 8000))
	}
	if n := len(passLine.FindAllString(out.String(), -1)); n != solveCases {
		b.Fatalf("%s: %d cases passed, want %d\n%s", filepath.Base(bin), n, solveCases, testkit.Tail(out.String(), 8000))
	}
	return d
}
