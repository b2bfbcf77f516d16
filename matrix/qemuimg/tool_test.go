package qemuimg

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/matrix"
)

func hostQemuImg(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("qemu-img")
	if err != nil {
		t.Skip("qemu-img is not installed: apt-get install qemu-utils")
	}
	return p
}

// TestLiveAgainstBaseline records the host's qemu-img now and compares
// every output with the baseline SelectBaseline picks for its version.
func TestLiveAgainstBaseline(t *testing.T) {
	hostQemuImg(t)
	dir := t.TempDir()
	q, err := From(dirRunner{dir})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := Record(q)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := Baselines("testdata")
	if err != nil {
		t.Fatal(err)
	}
	base, err := SelectBaseline(vs, q.Version())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("live qemu-img %s against baseline %s", q.Version().Long(), base)
	p := DefaultPolicy()
	compared := 0
	for name, out := range outs {
		if name == "version.txt" || strings.HasSuffix(name, ".err") {
			continue
		}
		Check(t, p, name, base, load(t, base, name), q.Version(), out)
		compared++
	}
	if compared < 20 {
		t.Errorf("compared only %d outputs", compared)
	}
	for _, f := range RecordedFiles() {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("RecordedFiles lists %s, which Record did not make: %v", f, err)
		}
	}
}

type cell map[string]any

func (c cell) Value(axis string) any { return c[axis] }
func (c cell) Cmd(args ...string) *exec.Cmd {
	return exec.Command(args[0], args[1:]...)
}

func TestAxisFromFound(t *testing.T) {
	host := hostQemuImg(t)
	dir := t.TempDir()
	// A wrapper that reports another version, as a chroot wrapper would.
	other := filepath.Join(dir, "qemu-img-other")
	script := "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'qemu-img version 10.0.13 (Debian 1:10.0.13+ds-0+deb13u1)'; exit; fi\nexec " + host + " \"$@\"\n"
	if err := os.WriteFile(other, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvPaths, other+":")
	paths := Discover()
	if len(paths) != 2 || paths[1] != other {
		t.Fatalf("Discover() = %q", paths)
	}
	a, err := Axis(paths[1], paths[0])
	if err != nil {
		t.Fatal(err)
	}
	cells, err := matrix.Expand(a)
	if err != nil {
		t.Fatal(err)
	}
	hostV, err := Probe(host)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"qemu-img=" + short(hostV.Version), "qemu-img=10.0"}
	for i, c := range cells {
		if c.Name() != want[i] {
			t.Errorf("cell %d: %s, want %s", i, c.Name(), want[i])
		}
	}
	// From runs the cell's binary through the sandbox's Cmd.
	b := cells[1].Value(AxisName).(Binary)
	q, err := From(cell{AxisName: b})
	if err != nil {
		t.Fatal(err)
	}
	if q.Version().String() != "10.0.13" || q.Path() != other {
		t.Errorf("From(10.0 cell) = %s at %s", q.Version(), q.Path())
	}
	// Two binaries of one major.minor are told apart by micro.
	same := filepath.Join(dir, "qemu-img-same")
	if err := os.WriteFile(same, []byte("#!/bin/sh\necho 'qemu-img version 10.0.2'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	a, err = Axis(other, same)
	if err != nil || a.Values[0].Name != "10.0.2" || a.Values[1].Name != "10.0.13" {
		t.Errorf("Axis of 10.0.13 and 10.0.2: %+v, %v", a.Values, err)
	}
}

func TestAxisErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage")
	if err := os.WriteFile(garbage, []byte("#!/bin/sh\necho 'not a qemu-img'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	for _, p := range []string{garbage, missing} {
		_, err := Axis(p)
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("Axis(%s): %v, want an error naming it", p, err)
		}
	}
	if _, err := Axis(); err == nil {
		t.Error("empty axis accepted")
	}
	if _, err := From(cell{AxisName: Binary{Path: garbage}}); err == nil || !strings.Contains(err.Error(), "not a qemu-img") {
		t.Errorf("From(garbage): %v", err)
	}
}
