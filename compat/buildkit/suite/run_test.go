package suite

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestCaseNameMatchesRepeatsOfBothHarnesses(t *testing.T) {
	for in, want := range map[string]string{
		"TestIntegration/TestA/worker=oci/frontend=builtin#01": "TestIntegration/TestA/worker=oci/frontend=builtin#01",
		"TestIntegration/TestA#01/worker=oci/frontend=builtin": "TestIntegration/TestA/worker=oci/frontend=builtin#01",
		"TestIntegration/TestA/worker=oci":                     "TestIntegration/TestA/worker=oci",
	} {
		got, ok := CaseName(in)
		if !ok || got != want {
			t.Errorf("CaseName(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := CaseName("TestIntegration"); ok {
		t.Error("a test without a worker= element is not a case")
	}
}

func TestParseAndCompare(t *testing.T) {
	events := func(lines ...string) *bytes.Buffer { return bytes.NewBufferString(strings.Join(lines, "\n")) }
	a, b := &Run{Harness: Matrixbox}, &Run{Harness: Buildkit}
	if err := a.parse(events(
		`{"Action":"output","Test":"TestIntegration/TestA#01/worker=oci/x=1","Output":"boom\n"}`,
		`{"Action":"fail","Test":"TestIntegration/TestA#01/worker=oci/x=1"}`,
		`{"Action":"fail","Test":"TestIntegration/TestB/worker=oci/x=1/#00"}`,
		`{"Action":"pass","Test":"TestIntegration/TestB/worker=oci/x=1"}`,
		`{"Action":"pass","Test":"TestIntegration"}`,
		`not json: printed by the binary`,
	)); err != nil {
		t.Fatal(err)
	}
	if err := b.parse(events(
		`{"Action":"pass","Test":"TestIntegration/TestA/worker=oci/x=1#01"}`,
		`{"Action":"pass","Test":"TestIntegration/TestB/worker=oci/x=1"}`,
		`{"Action":"skip","Test":"TestIntegration/TestC/worker=oci/x=1"}`,
	)); err != nil {
		t.Fatal(err)
	}
	if p, f, s := a.Counts(); p != 1 || f != 1 || s != 0 {
		t.Errorf("counts %d %d %d, want 1 1 0", p, f, s)
	}
	diffs := Compare(a, b)
	want := []Difference{
		{Case: "TestIntegration/TestA/worker=oci/x=1#01", A: Fail, B: Pass},
		{Case: "TestIntegration/TestC/worker=oci/x=1", A: "absent", B: Skip},
	}
	if len(diffs) != len(want) || diffs[0] != want[0] || diffs[1] != want[1] {
		t.Fatalf("differences %+v, want %+v", diffs, want)
	}
	if got := a.Output[want[0].Case]; len(got) != 1 || got[0] != "boom" {
		t.Errorf("output %q", got)
	}
}

func TestEnvGivesEachHarnessItsOwn(t *testing.T) {
	base := []string{"PATH=/usr/bin", "MATRIXBOX_SELECT=worker=oci", "MATRIXBOX_BIN=/b", "MATRIXBOX_COMPAT_ISOLATION=shared", "BUILDKIT_WORKER_RANDOM=1", "HOME=/root"}
	path := []string{"/b/buildkit/v0.34.2", "/b/runc/v1.5.3"}
	mb := strings.Join(Env(Matrixbox, base, path, "/m", true), " ")
	bare := strings.Join(Env(Matrixbox, base, path, "/m", false), " ")
	bk := strings.Join(Env(Buildkit, base, path, "/m", true), " ")
	for _, c := range []struct {
		env, want string
		has       bool
	}{
		{mb, "MATRIXBOX_SELECT", false}, {mb, "BUILDKIT_WORKER_RANDOM", false}, {mb, "MATRIXBOX_BIN=/b", true},
		{mb, "MATRIXBOX_COMPAT_ISOLATION", false}, {mb, "MATRIXBOX_COMPAT_STANDINS=amd64/debian:bullseye-20230109-slim=recipe:busybox", true},
		{mb, "alpine", false}, {mb, "PATH=/usr/bin", true}, {bare, "MATRIXBOX_COMPAT_STANDINS", false},
		{bk, "PATH=/b/buildkit/v0.34.2:/b/runc/v1.5.3:/usr/bin", true}, {bk, "BUILDKIT_REGISTRY_MIRROR_DIR=/m", true}, {bk, "MATRIXBOX_SELECT", false},
	} {
		if strings.Contains(c.env, c.want) != c.has {
			t.Errorf("%q in %q: want %v", c.want, c.env, c.has)
		}
	}
}

// TestRootlessIDPairNamesWhatIsMissing: a user whose login shell cannot
// run BuildKit's rootless daemons (nobody's is nologin) is refused with
// what to set up, before any suite runs.
func TestRootlessIDPairNamesWhatIsMissing(t *testing.T) {
	if _, err := exec.LookPath("sudo"); err != nil || os.Getuid() != 0 {
		t.Skip("needs root and sudo, as BuildKit's rootless workers do")
	}
	_, err := RootlessIDPair(t.Context(), "nobody", "/x/buildkitd")
	if err == nil || !strings.Contains(err.Error(), "give nobody a login shell and a ~/.profile that puts /x first on PATH") {
		t.Fatalf("got %v, want an error saying what nobody lacks", err)
	}
	if _, err := RootlessIDPair(t.Context(), "no-such-user-here", "/x/buildkitd"); err == nil {
		t.Fatal("an unknown user: no error")
	}
}
