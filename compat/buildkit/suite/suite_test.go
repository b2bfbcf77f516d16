package suite

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/compat/buildkit/integration"
	"github.com/matrixbox/matrixbox/internal/daemons"
	"github.com/matrixbox/matrixbox/mirror"
)

// EnvSuite switches TestBuildkitSuite on: "1" runs the whole of BuildKit's
// suites on both harnesses (the benchmark), "slice" the fixed slice that
// make test runs on matrixbox.
const EnvSuite = "MATRIXBOX_BUILDKIT_SUITE"

// sliceTests are cases that pass on both harnesses here: the slice keeps
// the compat layer honest in CI. Each runs with both frontends (dockerfile)
// on every worker. TestCopyChown needs the builtin frontend of the
// suite's own BuildKit; TestNamedImageContext reads the offline
// alpine:latest. The client tests are of TestClientGatewayIntegration,
// whose Run mirrors busybox alone: the main client Run also mirrors
// images that only a stand-in gives offline (tonistiigi/test:nolayers,
// cpuguy83/buildkit-foreign), and the slice runs with none.
var sliceTests = map[string]string{
	"dockerfile": "TestCopyChown|TestNamedImageContext|TestEmptyStages|TestCopySocket|TestCopyInvalidChmod|TestCopyThroughSymlinkContext|TestCopyVarSubstitution|TestLocalCustomSessionID|TestCopyOverrideFiles|TestNamedLocalContext|TestTarContext|TestNoSnapshotLeak|TestCopySymlinks|TestCopyWildcards",
	"client":     "TestClientGatewaySolve|TestClientGatewayFailedSolve|TestClientGatewayEmptySolve|TestClientGatewayNilResult|TestClientGatewayContainerMounts|TestClientGatewayContainerPID1Exit|TestClientGatewayExecError|TestNoBuildID",
}

// sliceTestsOn are the slice's tests of suite on worker. On the dockerd
// workers TestCopyChown is left out: its builtin frontend is dockerd's own
// BuildKit (v0.33.0 in moby v29.8.1), older than COPY --chown=<user>:
// (v0.34), so it fails there on either harness, the same daemon answering.
func sliceTestsOn(suite, worker string) string {
	tests := sliceTests[suite]
	if strings.HasPrefix(worker, "dockerd") {
		tests = strings.Join(slices.DeleteFunc(strings.Split(tests, "|"), func(t string) bool { return t == "TestCopyChown" }), "|")
	}
	return tests
}

// sliceMinPass is the fewest passing cases per suite and worker the slice
// accepts: a slice that silently skipped everything must not pass.
var sliceMinPass = map[string]int{"dockerfile": 24, "client": 7}

// TestBuildkitSuite runs BuildKit's frontend/dockerfile and client
// integration suites, of BuildKit v0.34.2 (the version table's default)
// unless told another, copied out of the module cache into a module that
// requires that BuildKit, on matrixbox through the compat layer (fresh and
// reset isolation) and, side by side, on BuildKit's own harness, with the
// daemons of matrixbox's version table (DaemonPath), and writes the
// outcomes to $MATRIXBOX_BUILDKIT_SUITE_OUT (default: a new temp dir,
// kept and logged): one go test -json file per run and summary.md.
//
//	MATRIXBOX_BUILDKIT_SUITE=1|slice
//	MATRIXBOX_BUILDKIT_SUITE_VERSION=v0.34.2|v0.28.0
//	MATRIXBOX_BUILDKIT_SUITE_SUITES=dockerfile,client
//	MATRIXBOX_BUILDKIT_SUITE_WORKERS=oci,containerd     (the slice: also dockerd,dockerd-containerd)
//	MATRIXBOX_BUILDKIT_SUITE_HARNESSES=matrixbox,buildkit
//	MATRIXBOX_BUILDKIT_SUITE_ISOLATIONS=fresh,reset     (matrixbox's)
//	MATRIXBOX_BUILDKIT_SUITE_STANDINS=1|0               (StandIns for the images matrixbox cannot have offline)
//	MATRIXBOX_BUILDKIT_SUITE_TESTS=<regexp of test names>   (default: all)
//	MATRIXBOX_BUILDKIT_SUITE_ROOTLESS_USER=<user>      (BuildKit's rootless workers; see RootlessIDPair)
//
// The slice runs a fixed selection on matrixbox only, fresh, with no
// stand-in: what a user's module gets with no variable set.
func TestBuildkitSuite(t *testing.T) {
	mode := os.Getenv(EnvSuite)
	switch mode {
	case "":
		t.Skipf("%s=1 runs BuildKit's own suites (hours), %s=slice a slice (minutes)", EnvSuite, EnvSuite)
	case "1", "slice":
	default:
		t.Fatalf("%s=%q: want 1 or slice", EnvSuite, mode)
	}
	if os.Getuid() != 0 {
		t.Skip("BuildKit's suites run buildkitd as root")
	}
	slice := mode == "slice"
	def := func(full, sl string) string {
		if slice {
			return sl
		}
		return full
	}
	version := os.Getenv(EnvSuite + "_VERSION")
	if version == "" {
		version = daemons.Default(daemons.BuildKit).Version
	}
	var harnesses []Harness
	for _, h := range list(EnvSuite+"_HARNESSES", def("matrixbox,buildkit", "matrixbox")) {
		if h := Harness(h); h == Matrixbox || h == Buildkit {
			harnesses = append(harnesses, h)
			continue
		}
		t.Fatalf("%s_HARNESSES: %q: want matrixbox and/or buildkit", EnvSuite, h)
	}
	isolations := list(EnvSuite+"_ISOLATIONS", def("fresh,reset", "fresh"))
	for _, iso := range isolations {
		if iso != "fresh" && iso != "reset" && iso != "shared" {
			t.Fatalf("%s_ISOLATIONS: %q: want fresh, reset or shared", EnvSuite, iso)
		}
	}
	standIns := os.Getenv(EnvSuite+"_STANDINS") != "0" && !slice
	var suites []Suite
	for _, name := range list(EnvSuite+"_SUITES", "dockerfile,client") {
		s, err := SuiteByName(name)
		if err != nil {
			t.Fatalf("%s_SUITES: %v", EnvSuite, err)
		}
		suites = append(suites, s)
	}
	workerNames := list(EnvSuite+"_WORKERS", def("oci,containerd", "oci,containerd,dockerd,dockerd-containerd"))
	tests := os.Getenv(EnvSuite + "_TESTS")
	if slice && tests != "" {
		t.Fatalf("%s_TESTS does not apply to the slice, whose tests are fixed", EnvSuite)
	}
	path, err := DaemonPath(version)
	if err != nil {
		t.Fatalf("the daemons of BuildKit's harness: %v", err)
	}

	out := os.Getenv(EnvSuite + "_OUT")
	if out == "" {
		var err error
		if out, err = os.MkdirTemp("", "buildkit-suite-"); err != nil {
			t.Fatal(err)
		}
		// The slice's outputs (a module, binaries: hundreds of MB) are
		// kept only when it fails; the full run's are its result.
		if slice {
			t.Cleanup(func() {
				if !t.Failed() {
					if err := os.RemoveAll(out); err != nil {
						t.Errorf("remove %s: %v", out, err)
					}
				}
			})
		}
	}
	t.Logf("BuildKit %s; outputs in %s", version, out)
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	// Both harnesses pull the same images: matrixbox from its shared
	// mirror, BuildKit's harness from a copy of that mirror's storage.
	m := mirror.Shared()
	if err := m.Ensure(ctx, MirrorImages()); err != nil {
		t.Fatal(err)
	}
	extra, err := ContainerdExtra(filepath.Join(out, "containerd-extra"))
	if err != nil {
		t.Fatal(err)
	}
	var idPair string
	if slices.Contains(harnesses, Buildkit) && slices.ContainsFunc(workerNames, func(w string) bool { return strings.Contains(w, "rootless") }) {
		u := os.Getenv(EnvSuite + "_ROOTLESS_USER")
		if u == "" {
			t.Fatalf("BuildKit's harness runs its rootless workers as a user of its own: name it in %s_ROOTLESS_USER (see RootlessIDPair)", EnvSuite)
		}
		if idPair, err = RootlessIDPair(ctx, u, filepath.Join(path[0], "buildkitd")); err != nil {
			t.Fatal(err)
		}
	}
	bkMirror := filepath.Join(out, "buildkit-mirror")
	if slices.Contains(harnesses, Buildkit) {
		if err := SeedBuildkitMirror(m.Dir(), bkMirror); err != nil {
			t.Fatal(err)
		}
	}

	start := time.Now()
	mod, err := Prepare(ctx, filepath.Join(out, "module"), root, version, suites...)
	if err != nil {
		t.Fatal(err)
	}
	binaries := map[string]string{}
	for _, s := range suites {
		for _, h := range harnesses {
			b := filepath.Join(out, s.Name+"-"+string(h)+".test")
			if err := mod.Build(ctx, s, h, b); err != nil {
				t.Fatal(err)
			}
			binaries[s.Name+"/"+string(h)] = b
		}
	}
	t.Logf("module of BuildKit %s prepared and %d test binaries built in %s", mod.BuildkitVersion, len(binaries), time.Since(start).Round(time.Second))

	var runs []*Run
	for _, s := range suites {
		for _, w := range workerNames {
			sel := tests
			if slice {
				sel = sliceTestsOn(s.Name, w)
			}
			for _, h := range harnesses {
				isos := isolations
				if h == Buildkit {
					isos = []string{""}
				}
				for _, iso := range isos {
					name := fmt.Sprintf("%s-%s-%s", s.Name, w, h)
					env := Env(h, os.Environ(), path, bkMirror, standIns)
					if h == Buildkit && extra != "" {
						env = append(env, "BUILDKIT_INTEGRATION_CONTAINERD_EXTRA="+extra)
					}
					if h == Buildkit && idPair != "" {
						env = append(env, "BUILDKIT_INTEGRATION_ROOTLESS_IDPAIR="+idPair)
					}
					if strings.HasPrefix(w, "dockerd") {
						// BuildKit's suites register their dockerd
						// workers, and only those, under TEST_DOCKERD=1.
						env = append(env, "TEST_DOCKERD=1")
					}
					if iso != "" {
						name += "-" + iso
						env = append(env, integration.EnvIsolation+"="+iso)
					}
					r := runOne(t, out, name, RunOptions{
						Binary: binaries[s.Name+"/"+string(h)], Suite: s.Name, Harness: h, Isolation: iso, Worker: w, Tests: sel,
						Env: env, Timeout: 5 * time.Hour,
					})
					runs = append(runs, r)
					if p, f, _ := r.Counts(); slice && (f > 0 || p < sliceMinPass[s.Name]) {
						var failed []string
						for c, o := range r.Outcomes {
							if o == Fail {
								failed = append(failed, c+"\n"+strings.Join(tail(r.Output[c], 30), "\n"))
							}
						}
						t.Errorf("slice %s on %s: %d passed (want at least %d), %d failed:\n%s", s.Name, w, p, sliceMinPass[s.Name], f, strings.Join(failed, "\n\n"))
					}
				}
			}
		}
	}
	var md bytes.Buffer
	WriteMarkdown(&md, runs)
	if err := os.WriteFile(filepath.Join(out, "summary.md"), md.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("summary (%s):\n%s", filepath.Join(out, "summary.md"), md.String())
}

// runOne runs one suite binary as o says, named name in out: its go test
// JSON in <name>.json, its working directory cwd-<name>.
func runOne(t *testing.T, out, name string, o RunOptions) *Run {
	t.Helper()
	jf, err := os.Create(filepath.Join(out, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	defer jf.Close()
	o.Dir = filepath.Join(out, "cwd-"+name)
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	o.JSON = jf
	r, err := RunBinary(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	p, f, sk := r.Counts()
	t.Logf("%s: %d passed, %d failed, %d skipped in %.1f s (exit: %v)", name, p, f, sk, r.Wall.Seconds(), r.Err)
	return r
}

func list(env, def string) []string {
	v := os.Getenv(env)
	if v == "" {
		v = def
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
