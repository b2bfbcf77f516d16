package packages

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/matrix/distro"
	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

func TestPackages(t *testing.T) {
	axis, err := distro.Axis(distros...)
	if err != nil {
		t.Fatal(err)
	}
	integration.Run(t, integration.TestFuncs(testStaticDeb, testGlibcFloor),
		integration.WithWorkers(workers.Containerd()),
		integration.WithMirror(mirror.Shared()),
		integration.WithAxes(axis))
}

// canRunTruth is what the glibc-linked hello does on each Debian release:
// the host's gcc links it against GLIBC_2.34, newer than Debian 11's 2.31.
var canRunTruth = map[string]bool{"debian-11": false, "debian-12": true, "debian-13": true}

// testStaticDeb installs a .deb holding a static hello and runs it.
func testStaticDeb(t *testing.T, sb sandbox.Sandbox) {
	d := cellDistro(t, sb)
	requireDeb(t, d)
	dir := sb.TempDir()
	bin := buildStaticHello(t, dir, "mbx-hello-static")
	ok, why, err := distro.CanRun(bin, d)
	if err != nil || !ok {
		t.Fatalf("CanRun(static hello, %s) = %v, %q, %v; want true", d.ID, ok, why, err)
	}
	deb := buildDeb(t, dir, "mbx-hello-static", bin)
	install(t, sb, d, deb, "mbx-hello-static")
	out, err := sb.Cmd("/usr/bin/mbx-hello-static").CombinedOutput()
	if err != nil || string(out) != "hello from mbx-hello-static\n" {
		t.Fatalf("mbx-hello-static in %s: %v %q", d, err, out)
	}
}

// testGlibcFloor installs a .deb whose binary needs a newer glibc than
// Debian 11 ships: CanRun's verdict and the cell's run must agree.
func testGlibcFloor(t *testing.T, sb sandbox.Sandbox) {
	d := cellDistro(t, sb)
	requireDeb(t, d)
	dir := sb.TempDir()
	bin := buildGlibcHello(t, dir, "mbx-hello-glibc")
	floor, err := distro.GlibcFloor(bin)
	if err != nil {
		t.Fatal(err)
	}
	bullseye, _ := distro.Lookup("debian-11")
	if floor.Version.Compare(bullseye.Glibc) <= 0 {
		t.Fatalf("the host's gcc made a binary needing %s, not newer than %s's glibc %s: this scenario needs a build host with glibc 2.32 or newer", floor, bullseye, bullseye.Glibc)
	}
	ok, why, err := distro.CanRun(bin, d)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("CanRun on %s: %v (%s)", d.ID, ok, why)
	if want, known := canRunTruth[d.ID]; known && ok != want {
		t.Errorf("CanRun(%s) = %v, want %v: %s", d.ID, ok, want, why)
	}
	deb := buildDeb(t, dir, "mbx-hello-glibc", bin)
	install(t, sb, d, deb, "mbx-hello-glibc")
	out, err := sb.Cmd("/usr/bin/mbx-hello-glibc").CombinedOutput()
	if ok {
		if err != nil || string(out) != "hello from mbx-hello-glibc\n" {
			t.Fatalf("CanRun says it runs on %s, but: %v %q", d, err, out)
		}
		return
	}
	notFound := "version `GLIBC_" + floor.Version.String() + "' not found"
	var exit *exec.ExitError
	if !errors.As(err, &exit) || !strings.Contains(string(out), notFound) {
		t.Fatalf("CanRun says it cannot run on %s (%s); the cell: %v %q, want a failure saying %q", d, why, err, out, notFound)
	}
	t.Logf("on %s, as CanRun said: %s", d.ID, strings.TrimSpace(string(out)))
}

func requireDeb(t *testing.T, d distro.Distro) {
	t.Helper()
	if d.Format != distro.Deb {
		t.Skipf("%s installs %s packages; this example builds .debs", d.ID, d.Format)
	}
}

// hostRun runs a command on the host (not in the cell) in dir.
func hostRun(t *testing.T, dir string, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// buildStaticHello builds a static hello with the Go toolchain running
// this test, which is there wherever the test is.
func buildStaticHello(t *testing.T, dir, name string) string {
	t.Helper()
	src := filepath.Join(dir, name+".go")
	code := "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello from " + name + "\") }\n"
	if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("needs the go command on PATH")
	}
	out := filepath.Join(dir, name)
	hostRun(t, dir, []string{"CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=", "GOTOOLCHAIN=local"}, goBin, "build", "-trimpath", "-o", out, src)
	return out
}

// buildGlibcHello builds a hello linked dynamically against the host's
// glibc.
func buildGlibcHello(t *testing.T, dir, name string) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("no gcc to link a binary against the host's glibc: apt-get install gcc libc6-dev")
	}
	src := filepath.Join(dir, name+".c")
	code := "#include <stdio.h>\nint main(void) { printf(\"hello from %s\\n\", \"" + name + "\"); return 0; }\n"
	if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	hostRun(t, dir, nil, gcc, "-O2", "-o", out, src)
	return out
}

// buildDeb packs bin as /usr/bin/<pkg> into <pkg>.deb with dpkg-deb on
// the host. It declares no Depends, as a careless package would: whether
// the binary runs is then up to the distro's glibc.
func buildDeb(t *testing.T, dir, pkg, bin string) string {
	t.Helper()
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("no dpkg-deb to build the package: apt-get install dpkg-dev")
	}
	root := filepath.Join(dir, pkg+"-root")
	for _, d := range []string{"DEBIAN", "usr/bin"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	arch := map[string]string{"amd64": "amd64", "arm64": "arm64", "386": "i386", "arm": "armhf", "ppc64le": "ppc64el", "s390x": "s390x", "riscv64": "riscv64"}[runtime.GOARCH]
	control := "Package: " + pkg + "\nVersion: 1.0\nArchitecture: " + arch +
		"\nMaintainer: matrixbox <matrixbox@example.invalid>\nDescription: matrixbox install smoke\n"
	if err := os.WriteFile(filepath.Join(root, "DEBIAN", "control"), []byte(control), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "usr", "bin", pkg), b, 0o755); err != nil {
		t.Fatal(err)
	}
	deb := filepath.Join(dir, pkg+".deb")
	hostRun(t, dir, nil, "dpkg-deb", "--root-owner-group", "--build", root, deb)
	return deb
}

// install installs the package file with the distro's own command, inside
// the cell, and checks the package manager records it.
func install(t *testing.T, sb sandbox.Sandbox, d distro.Distro, deb, pkg string) {
	t.Helper()
	args := d.InstallFile(deb)
	if out, err := sb.Cmd(args...).CombinedOutput(); err != nil {
		t.Fatalf("%s in %s: %v\n%s", strings.Join(args, " "), d, err, out)
	}
	out, err := sb.Cmd("dpkg-query", "-W", "-f=${Status} ${Version}", pkg).CombinedOutput()
	if err != nil || string(out) != "install ok installed 1.0" {
		t.Fatalf("dpkg-query %s in %s after install: %v %q", pkg, d, err, out)
	}
}
