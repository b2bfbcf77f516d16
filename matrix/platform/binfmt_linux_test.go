package platform

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
)

// TestWithoutEmulation switches arm64 emulation off in a subtest, checks
// that an arm64 binary then cannot run, and that the handler is back on
// afterwards.
func TestWithoutEmulation(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skipf("written for amd64 machines, this is %s", runtime.GOARCH)
	}
	arm64, _ := Parse("linux/arm64")
	bin := buildHello(t, "arm64")
	before := Emulated(arm64)
	t.Run("off", func(t *testing.T) {
		WithoutEmulation(t, arm64)
		if Emulated(arm64) {
			t.Fatal("linux/arm64 still emulated")
		}
		_, err := Runnable(arm64)
		t.Logf("Runnable(linux/arm64): %v", err)
		if err == nil {
			t.Fatal("Runnable(linux/arm64) = nil with emulation off")
		}
		out, err := exec.Command(bin).CombinedOutput()
		if !errors.Is(err, syscall.ENOEXEC) {
			t.Fatalf("arm64 binary with emulation off: %q, %v; want exec format error", out, err)
		}
	})
	if Emulated(arm64) != before {
		t.Fatalf("after WithoutEmulation: Emulated(linux/arm64) = %v, was %v", Emulated(arm64), before)
	}
	if _, err := os.Stat(binfmtStatePath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s left behind: %v", binfmtStatePath, err)
	}
	amd64, _ := Parse("linux/amd64")
	t.Run("native", func(t *testing.T) {
		ft := &fatalRecorder{TB: t}
		func() {
			defer func() { recover() }()
			WithoutEmulation(ft, amd64)
		}()
		if !ft.failed {
			t.Fatal("WithoutEmulation(linux/amd64) on amd64 did not fail")
		}
	})
}

// TestRepairBinfmt plays a process that died with arm64 emulation off: the
// next lock holder switches the handler back on.
func TestRepairBinfmt(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch binfmt_misc handlers")
	}
	const h = "qemu-aarch64"
	entry, err := os.ReadFile(filepath.Join("/", binfmtDir, h))
	if err != nil || string(entry[:7]) != "enabled" {
		t.Skipf("binfmt_misc %s is not registered and enabled here", h)
	}
	l, err := lockBinfmt(true)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	if err := os.WriteFile(binfmtStatePath, []byte(`{"pid":999999999,"handlers":["`+h+`"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeBinfmt(h, "0"); err != nil {
		t.Fatal(err)
	}
	err = repairBinfmt()
	entry, _ = os.ReadFile(filepath.Join("/", binfmtDir, h))
	if err != nil || string(entry[:7]) != "enabled" {
		writeBinfmt(h, "1")
		t.Fatalf("repair: %v; %s now %q", err, h, entry[:8])
	}
	if _, err := os.Stat(binfmtStatePath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s left behind: %v", binfmtStatePath, err)
	}
}

// fatalRecorder stands in for the test to see that a helper fails it.
type fatalRecorder struct {
	testing.TB
	failed bool
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.failed = true
	f.TB.Logf("(expected) "+format, args...)
	panic("fatal")
}

func buildHello(t *testing.T, goarch string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\nimport (\"fmt\";\"runtime\")\nfunc main(){fmt.Print(runtime.GOARCH)}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "hello")
	build := exec.Command("go", "build", "-o", bin, src)
	build.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+goarch, "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
