package integration

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
)

func testLowerFirst(*testing.T, Sandbox) {}

func TestTestFuncsNameLikeBuildkit(t *testing.T) {
	got := []string{}
	for _, tc := range TestFuncs(testLowerFirst, func(*testing.T, Sandbox) {}) {
		got = append(got, tc.Name())
	}
	want := []string{"TestLowerFirst", "Func1"}
	if !slices.Equal(got, want) {
		t.Fatalf("names %q, want %q (BuildKit's harness names a closure after its last symbol element)", got, want)
	}
}

func TestUniqueNameNumbersRepeats(t *testing.T) {
	seen := map[string]int{}
	var got []string
	for _, n := range []string{"TestA", "TestB", "TestA", "TestA"} {
		got = append(got, uniqueName(seen, n))
	}
	if want := []string{"TestA", "TestB", "TestA#01", "TestA#02"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestStandIns(t *testing.T) {
	t.Setenv(EnvStandIns, "alpine:latest=recipe:busybox, docker.io/tonistiigi/hellofs=oci-layout:/x")
	images := map[string]string{
		"library/alpine:latest":     "docker.io/amd64/alpine:latest",
		"library/busybox:latest":    "recipe:busybox",
		"tonistiigi/hellofs:latest": "docker.io/tonistiigi/hellofs:latest",
	}
	got, used, err := mirrorSources(images)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"library/alpine:latest":     "recipe:busybox",
		"library/busybox:latest":    "recipe:busybox",
		"tonistiigi/hellofs:latest": "oci-layout:/x",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s from %q, want %q", k, got[k], v)
		}
	}
	if len(used) != 2 || !strings.Contains(used[0], "library/alpine:latest from recipe:busybox instead of docker.io/amd64/alpine:latest") {
		t.Errorf("stand-ins logged as %q", used)
	}
}

func TestBadStandInsNameTheVariable(t *testing.T) {
	for _, v := range []string{"alpine:latest", "alpine:latest=", "UPPER:x=recipe:busybox"} {
		t.Setenv(EnvStandIns, v)
		_, _, err := mirrorSources(map[string]string{"library/busybox:latest": "recipe:busybox"})
		if err == nil || !strings.Contains(err.Error(), EnvStandIns) {
			t.Errorf("%s=%q: got %v, want an error naming the variable", EnvStandIns, v, err)
		}
	}
}

func TestBadIsolationNamesTheVariable(t *testing.T) {
	t.Setenv(EnvIsolation, "warm")
	_, err := isolationFromEnv()
	if err == nil || !strings.Contains(err.Error(), EnvIsolation) || !strings.Contains(err.Error(), "fresh, reset, shared") {
		t.Fatalf("got %v, want an error naming %s and its values", err, EnvIsolation)
	}
}

type appendTOML struct {
	text     string
	released *[]string
}

func (a appendTOML) UpdateConfigFile(in string) (string, func() error) {
	return in + "\n" + a.text + "\n", func() error {
		*a.released = append(*a.released, a.text)
		return nil
	}
}

type panics struct{}

func (panics) UpdateConfigFile(string) (string, func() error) { panic("no temp dir") }

func TestBuildkitdConfigRunsTheCellsUpdatersInAxisOrder(t *testing.T) {
	var released []string
	cells, err := matrix.Expand(
		matrix.FromMap("frontend", map[string]any{"builtin": 1}),
		matrix.FromMap("network.host", map[string]any{"granted": appendTOML{`insecure-entitlements = ["network.host"]`, &released}}),
		matrix.FromMap("env", map[string]any{"simple": appendTOML{`provenanceEnvDir = "/x"`, &released}}),
	)
	if err != nil {
		t.Fatal(err)
	}
	frag, release, err := BuildkitdConfig(&sandbox.Config{Cell: cells[0]})
	if err != nil {
		t.Fatal(err)
	}
	if want := "\ninsecure-entitlements = [\"network.host\"]\n\nprovenanceEnvDir = \"/x\"\n"; frag != want {
		t.Errorf("fragment %q, want %q", frag, want)
	}
	if err := release(); err != nil || !slices.Equal(released, []string{`provenanceEnvDir = "/x"`, `insecure-entitlements = ["network.host"]`}) {
		t.Errorf("release: %v, released %q (want both, last made first)", err, released)
	}
}

func TestBuildkitdConfigTurnsAPanicIntoAnError(t *testing.T) {
	cells, err := matrix.Expand(matrix.FromMap("env", map[string]any{"broken": panics{}}))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = BuildkitdConfig(&sandbox.Config{Cell: cells[0]})
	if err == nil || !strings.Contains(err.Error(), "env=broken") || !strings.Contains(err.Error(), "no temp dir") {
		t.Fatalf("got %v, want an error naming the matrix value and the panic", err)
	}
}

// fakeSandbox has the features it lists.
type fakeSandbox struct {
	Sandbox
	features []string
	cleared  bool
}

func (f *fakeSandbox) Supports(feature string) bool { return slices.Contains(f.features, feature) }
func (f *fakeSandbox) Name() string                 { return "dockerd" }
func (f *fakeSandbox) ClearLogs()                   { f.cleared = true }

func TestHasFeatureCompatNamesWorkerAndMissingFeatures(t *testing.T) {
	known := map[string]struct{}{"a": {}, "b": {}, "c": {}}
	sb := &fakeSandbox{features: []string{"b"}}
	err := HasFeatureCompat(t, sb, known, "a", "b", "c")
	if err == nil || err.Error() != "dockerd worker can not currently run this test due to missing features (a, c)" {
		t.Fatalf("got %v", err)
	}
	if err := HasFeatureCompat(t, sb, known, "b"); err != nil {
		t.Fatalf("a supported feature: %v", err)
	}
}

func TestFeatureVariablesOverrideTheWorker(t *testing.T) {
	t.Setenv("BUILDKIT_TEST_ENABLE_FEATURES", "a,b")
	t.Setenv("BUILDKIT_TEST_DISABLE_FEATURES", "b")
	var sb box // no backend: no feature of its own
	if !sb.Supports("a") || !sb.Supports("b") || sb.Supports("c") {
		t.Fatalf("enable a,b, disable b: got a=%v b=%v c=%v, want true true false", sb.Supports("a"), sb.Supports("b"), sb.Supports("c"))
	}
}

// TestOfficialImagesOffline: the official images v0.34's suites mirror up
// front come from matrixbox's offline recipes, with no stand-in set; the
// others from Docker Hub's namespace of this architecture.
func TestOfficialImagesOffline(t *testing.T) {
	t.Setenv(EnvStandIns, "")
	got, used, err := mirrorSources(OfficialImages("busybox:latest", "alpine:latest", "busybox:stable-musl", "debian:bookworm"))
	if err != nil || len(used) != 0 {
		t.Fatalf("%v, stand-ins %q", err, used)
	}
	for name, want := range map[string]string{
		"library/busybox:latest":      "recipe:busybox",
		"library/alpine:latest":       "recipe:alpine",
		"library/busybox:stable-musl": "recipe:busybox?libc=musl",
	} {
		if got[name] != want {
			t.Errorf("%s from %q, want %q", name, got[name], want)
		}
	}
	if src := got["library/debian:bookworm"]; !strings.HasPrefix(src, "docker.io/") {
		t.Errorf("library/debian:bookworm from %q, want Docker Hub", src)
	}
}

func TestFormatAndPrintLogsInNameOrder(t *testing.T) {
	logs := map[string]*bytes.Buffer{"b": bytes.NewBufferString("two\nlines\n"), "a": bytes.NewBufferString("one"), "nil": nil}
	if got, want := FormatLogs(logs), `"a":"one","b":"two\nlines\n"`; got != want {
		t.Errorf("FormatLogs = %s, want %s", got, want)
	}
	var lines []string
	PrintLogs(logs, func(args ...any) { lines = append(lines, fmt.Sprint(args...)) })
	if want := []string{"a", "one", "b", "two", "lines", "nil"}; !slices.Equal(lines, want) {
		t.Errorf("PrintLogs gave %q, want %q", lines, want)
	}
}

func TestMultiCloserRunsAllLastFirstAndReportsEveryError(t *testing.T) {
	var mc MultiCloser
	var order []int
	for i := range 3 {
		mc.Append(func() error {
			order = append(order, i)
			if i != 1 {
				return fmt.Errorf("close %d", i)
			}
			return nil
		})
	}
	err := mc.F()()
	if !slices.Equal(order, []int{2, 1, 0}) || err == nil || !strings.Contains(err.Error(), "close 2") || !strings.Contains(err.Error(), "close 0") {
		t.Fatalf("order %v, error %v: want 2 1 0 and both errors", order, err)
	}
	if err := mc.F()(); err != nil {
		t.Fatalf("a second F ran the closers again: %v", err)
	}
}

func TestLookupBinaryWrapsErrRequirements(t *testing.T) {
	if err := LookupBinary("sh"); err != nil {
		t.Fatal(err)
	}
	if err := LookupBinary("no-such-binary-here"); !errors.Is(err, ErrRequirements) {
		t.Fatalf("got %v, want ErrRequirements", err)
	}
}

// TestStartCmdWaitSocketAndStop runs a real process that opens a unix
// socket: WaitSocket sees it answer, its output is in the logs, and the
// stop ends it by SIGTERM without an error; a process that exits first
// ends WaitSocket's wait.
func TestStartCmdWaitSocketAndStop(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("needs python3 to open a unix socket")
	}
	sock := filepath.Join(t.TempDir(), "s.sock")
	logs := map[string]*bytes.Buffer{}
	cmd := exec.Command("python3", "-c", `import socket,sys,time
s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); print("listening", flush=True); time.sleep(60)`, sock)
	stop, err := StartCmd(cmd, logs)
	if err != nil {
		t.Fatal(err)
	}
	if err := WaitSocket("unix://"+sock, 30*time.Second, cmd); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if !strings.Contains(FormatLogs(logs), "listening") {
		t.Errorf("logs %s: want the process's output", FormatLogs(logs))
	}
	dead := exec.Command("true")
	stopDead, err := StartCmd(dead, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stopDead()
	if err := WaitSocket(filepath.Join(t.TempDir(), "never.sock"), 30*time.Second, dead); err == nil || !strings.Contains(err.Error(), "exited before") {
		t.Fatalf("got %v, want the process's exit to end the wait", err)
	}
}
