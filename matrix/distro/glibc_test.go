package distro

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/internal/testkit"
)

const helloC = "#include <stdio.h>\nint main(void){puts(\"hello\");return 0;}\n"

// build compiles hello.c with gcc and extra flags into dir.
func build(t *testing.T, dir, name string, flags ...string) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc is not installed: apt-get install gcc")
	}
	src := filepath.Join(dir, "hello.c")
	if err := os.WriteFile(src, []byte(helloC), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	args := append([]string{"-O2", "-o", out, src}, flags...)
	if b, err := exec.Command(gcc, args...).CombinedOutput(); err != nil {
		if strings.Contains(string(b), "cannot find -lc") {
			t.Skipf("gcc cannot link statically (libc6-dev lacks libc.a?): %s", b)
		}
		t.Fatalf("gcc %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return out
}

// hostGlibc asks the C library itself, through getconf, which version it is.
func hostGlibc(t *testing.T) GlibcVersion {
	t.Helper()
	out, err := exec.Command("getconf", "GNU_LIBC_VERSION").Output()
	if err != nil {
		t.Skipf("getconf GNU_LIBC_VERSION: %v (not a glibc system?)", err)
	}
	v, err := ParseGlibcVersion(strings.TrimPrefix(strings.TrimSpace(string(out)), "glibc "))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestGlibcFloorDynamic(t *testing.T) {
	bin := build(t, t.TempDir(), "hello-dyn")
	fl, err := GlibcFloor(bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %s", bin, fl)
	host := hostGlibc(t)
	if fl.Static || fl.Version.IsZero() || fl.Version.Compare(host) > 0 {
		t.Fatalf("floor %s of a binary built against glibc %s", fl, host)
	}
	// glibc 2.34 moved __libc_start_main into libc proper and gave it a
	// new version; every binary linked against 2.34 or later needs it.
	if host.Compare(GlibcVersion{2, 34, 0}) >= 0 {
		if fl.Version.Compare(GlibcVersion{2, 34, 0}) < 0 {
			t.Errorf("floor %s, want at least GLIBC_2.34 on a glibc %s toolchain", fl, host)
		}
		if fl.Version == (GlibcVersion{2, 34, 0}) && fl.Symbol != "__libc_start_main" {
			t.Errorf("floor %s: want symbol __libc_start_main", fl)
		}
	}
	if !strings.HasPrefix(fl.Interpreter, "/lib") {
		t.Errorf("interpreter %q", fl.Interpreter)
	}
	// The host's own distribution runs what its compiler built.
	d := Distro{ID: "host", Name: "host", Glibc: host}
	ok, why, err := CanRun(bin, d)
	if err != nil || !ok {
		t.Errorf("CanRun on the host's glibc %s: %v %q %v", host, ok, why, err)
	}
	// Debian 11's 2.31 is older than 2.34.
	deb11, _ := Lookup("debian-11")
	ok, why, err = CanRun(bin, deb11)
	if err != nil || ok || !strings.Contains(why, "GLIBC_2.34") || !strings.Contains(why, "Debian 11 (bullseye) ships glibc 2.31") {
		t.Errorf("CanRun on debian-11: %v %q %v", ok, why, err)
	}
	t.Log(why)
}

// TestCanRunAgreesWithBullseye runs the binary inside a Debian 11 root
// (made with debootstrap) when one is at hand: the loader must refuse it
// exactly as CanRun predicts.
func TestCanRunAgreesWithBullseye(t *testing.T) {
	root := os.Getenv("MATRIXBOX_BULLSEYE_ROOT")
	if root == "" {
		root = "/var/tmp/matrixbox-axes/bullseye"
	}
	if _, err := os.Stat(filepath.Join(root, "etc/debian_version")); err != nil || os.Geteuid() != 0 {
		t.Skipf("needs root and a Debian 11 tree at %s (debootstrap --variant=minbase bullseye %s), or MATRIXBOX_BULLSEYE_ROOT", root, root)
	}
	dir, err := os.MkdirTemp(filepath.Join(root, "tmp"), "canrun-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	deb11, _ := Lookup("debian-11")
	for _, name := range []string{"hello-dyn", "hello-static"} {
		var flags []string
		if name == "hello-static" {
			flags = []string{"-static"}
		}
		bin := build(t, dir, name, flags...)
		ok, why, err := CanRun(bin, deb11)
		if err != nil {
			t.Fatal(err)
		}
		out, runErr := exec.Command("chroot", root, "/tmp/"+filepath.Base(dir)+"/"+name).CombinedOutput()
		ran := runErr == nil && strings.TrimSpace(string(out)) == "hello"
		t.Logf("%s: CanRun=%v (%s); in bullseye: %q %v", name, ok, why, out, runErr)
		if ran != ok {
			t.Errorf("%s: CanRun says %v, running it in Debian 11 says %v", name, ok, ran)
		}
	}
}

func TestGlibcFloorStatic(t *testing.T) {
	dir := t.TempDir()
	bins := map[string]string{}
	if _, err := exec.LookPath("gcc"); err == nil {
		bins["gcc -static"] = build(t, dir, "hello-static", "-static")
	}
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\nfunc main(){println(\"hi\")}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gobin := filepath.Join(dir, "hello-go")
	cmd := exec.Command(testkit.GoCommand(t), "build", "-o", gobin, src)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	bins["go CGO_ENABLED=0"] = gobin
	deb11, _ := Lookup("debian-11")
	for what, bin := range bins {
		fl, err := GlibcFloor(bin)
		if err != nil {
			t.Fatal(err)
		}
		if !fl.Static || !fl.Version.IsZero() {
			t.Errorf("%s: floor %+v, want static", what, fl)
		}
		if ok, why, err := CanRun(bin, deb11); !ok || err != nil {
			t.Errorf("%s on debian-11: %v %q %v", what, ok, why, err)
		}
	}
}

func TestGlibcFloorErrors(t *testing.T) {
	dir := t.TempDir()
	notELF := filepath.Join(dir, "script.sh")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{notELF, filepath.Join(dir, "missing")} {
		if _, err := GlibcFloor(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("GlibcFloor(%s): %v, want an error naming it", p, err)
		}
	}
	if _, _, err := CanRun(notELF, Distro{ID: "x"}); err == nil || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("CanRun with no glibc: %v", err)
	}
}

func TestParseGlibcVersion(t *testing.T) {
	for in, want := range map[string]GlibcVersion{"2.36": {2, 36, 0}, "GLIBC_2.2.5": {2, 2, 5}, "2.41": {2, 41, 0}} {
		if got, err := ParseGlibcVersion(in); err != nil || got != want {
			t.Errorf("ParseGlibcVersion(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "2", "GLIBC_PRIVATE", "2.x", "0.0", "2.36.1.1", "2..3", "GLIBC_ABI_DT_RELR"} {
		if _, err := ParseGlibcVersion(in); err == nil {
			t.Errorf("ParseGlibcVersion(%q) accepted", in)
		}
	}
}
