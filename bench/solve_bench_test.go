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

// solveRow is a worker the solve suite runs on: worker (and moby, its
// version) on matrixbox's side, ancestor on BuildKit's harness.
type solveRow struct {
	name, worker, moby, ancestor string
}

// solveRows are the rows of BenchmarkSolveSuite: buildkitd with the OCI
// worker, and dockerd on each moby version and image store.
var solveRows = []solveRow{
	{name: "buildkitd-oci", worker: "buildkitd-oci", ancestor: "oci"},
	{name: "dockerd-v29.8.1", worker: "dockerd", moby: "v29.8.1", ancestor: "dockerd"},
	{name: "dockerd-v20.10", worker: "dockerd", moby: "v20.10", ancestor: "dockerd"},
	{name: "dockerd-containerd-v29.8.1", worker: "dockerd-containerd", moby: "v29.8.1", ancestor: "dockerd-containerd"},
}

// BenchmarkSolveSuite runs the same 100-case suite (50 trivial LLB solves ×
// 2 matrix values) on each row's worker four ways, each as a child go test
// process timed from start to exit:
//
//   - ancestor: BuildKit's util/testutil/integration with its worker of
//     that name (a fresh daemon per case);
//   - fresh: matrixbox, a fresh daemon per case;
//   - reset: the same suite with every test ResetBackend: warm daemons,
//     wiped and proven empty between cases;
//   - shared: every test SharedBackend, one warm daemon per cell.
//
// It reports each wall time and the ratios the targets are stated in:
// fresh/ancestor, ancestor/reset and ancestor/shared. The four run in turn
// within each iteration so that drift in the machine's load falls on all
// of them. A row skips without root, its daemons, runc or a distribution
// `registry` binary (which the ancestor's mirror runs).
func BenchmarkSolveSuite(b *testing.B) {
	for _, row := range solveRows {
		b.Run(row.name, func(b *testing.B) { benchSolves(b, row) })
	}
}

func benchSolves(b *testing.B, row solveRow) {
	env := solveEnv(b, row)
	dir := b.TempDir()
	ancestor := buildFixture(b, dir, "solves/ancestor")
	mbox := buildFixture(b, dir, "solves/matrixbox")

	var tAnc, tFresh, tReset, tShared time.Duration
	for i := 0; i < b.N; i++ {
		tAnc += runFixture(b, ancestor, env.ancestorRun(b), "^TestSolves$/^TestSolve[0-9]+$/^worker="+row.ancestor+"$")
		tFresh += runFixture(b, mbox, env.matrixbox(b, "fresh"), "^TestSolves$")
		tReset += runFixture(b, mbox, env.matrixbox(b, "reset"), "^TestSolves$")
		tShared += runFixture(b, mbox, env.matrixbox(b, "shared"), "^TestSolves$")
	}
	n := float64(b.N)
	b.ReportMetric(tAnc.Seconds()/n, "ancestor-s/op")
	b.ReportMetric(tFresh.Seconds()/n, "fresh-s/op")
	b.ReportMetric(tReset.Seconds()/n, "reset-s/op")
	b.ReportMetric(tShared.Seconds()/n, "shared-s/op")
	b.ReportMetric(tFresh.Seconds()/tAnc.Seconds(), "fresh/ancestor")
	b.ReportMetric(tAnc.Seconds()/tReset.Seconds(), "ancestor/reset")
	b.ReportMetric(tAnc.Seconds()/tShared.Seconds(), "ancestor/shared")
	b.Logf("%s, %d cases: ancestor %.1fs, matrixbox fresh %.1fs (%.2f× the ancestor's time), reset %.1fs (%.1f× faster), shared %.1fs (%.1f× faster)",
		row.name, solveCases, tAnc.Seconds()/n, tFresh.Seconds()/n, tFresh.Seconds()/tAnc.Seconds(),
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
// report), with the row's worker; the ancestor's gets a PATH with the
// row's daemons and registry on it.
func solveEnv(b *testing.B, row solveRow) solveEnvs {
	b.Helper()
	if testing.Short() {
		b.Skip("the solve suite starts 300 daemons; not in -short")
	}
	if os.Getuid() != 0 {
		b.Skip("the solve suite runs its daemons as root")
	}
	// The ancestor finds its daemons, runc and registry on PATH: the
	// releases of matrixbox's version table matrixbox's own workers run.
	pathDir := b.TempDir()
	releases := []daemons.Release{daemons.Default(daemons.BuildKit), daemons.Default(daemons.Registry)}
	var rowEnv []string
	if row.moby != "" {
		moby, err := daemons.Lookup(daemons.Moby, row.moby)
		if err != nil {
			b.Fatal(err)
		}
		// dockerd's containerd and runc (moby 29 needs a runc that knows
		// the time namespace, as matrixbox's workers run it).
		releases = []daemons.Release{daemons.Default(daemons.Registry), moby, moby.ContainerdRelease(), daemons.Default(daemons.Runc)}
		rowEnv = append(rowEnv, "BENCH_MOBY="+row.moby)
	}
	for _, r := range releases {
		if err := r.Installed(); err != nil {
			b.Skipf("the ancestor's %s worker and mirror need it: %v", row.ancestor, err)
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
	base = append(base, "BENCH_WORKER="+row.worker)
	base = append(base, rowEnv...)
	anc := append([]string(nil), base...)
	for i, kv := range anc {
		if p, ok := strings.CutPrefix(kv, "PATH="); ok {
			anc[i] = "PATH=" + pathDir + string(os.PathListSeparator) + p
		}
	}
	// Its dockerd leaves the host's firewall and bridges alone, as
	// matrixbox's does (the solves run no step that needs a network).
	anc = append(anc, "BUILDKIT_INTEGRATION_DOCKERD_FLAGS=--iptables=false\n--ip6tables=false\n--bridge=none")
	return solveEnvs{ancestor: anc, base: append(base, "MATRIXBOX_CONFIG=none")}
}

// ancestorRun returns the ancestor child's environment: a TMPDIR of its
// own, where its dockerd's directories, which it does not remove, go. Not
// b.TempDir(), whose path holds the benchmark's name: its dockerd's
// containerd socket, four levels down, would pass the 108 bytes a unix
// socket's path may have.
func (e solveEnvs) ancestorRun(b *testing.B) []string {
	b.Helper()
	dir, err := os.MkdirTemp("", "anc")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	return append(append([]string(nil), e.ancestor...), "TMPDIR="+dir)
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

// runFixture runs a fixture binary's cases that run selects and returns
// its wall time. The suite must pass with exactly solveCases passing
// cases: a harness that skipped its cases would otherwise look fast.
func runFixture(b *testing.B, bin string, env []string, run string) time.Duration {
	b.Helper()
	cmd := exec.Command(bin, "-test.run", run, "-test.count=1", "-test.v", "-test.timeout=20m")
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
