package buildkittest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/matrix/platform"
	"github.com/matrixbox/matrixbox/ociimage"
	"github.com/matrixbox/matrixbox/sandbox"
)

// cellBox is a sandbox of one platform cell, for what needs no daemon.
type cellBox struct {
	sandbox.Sandbox
	dir string
	p   platform.Platform
}

func (c cellBox) TempDir() string { return c.dir }
func (c cellBox) Value(axis string) any {
	if axis == platform.AxisName {
		return c.p
	}
	return nil
}

// errorRecorder keeps what a check reports instead of failing the test.
type errorRecorder struct {
	testing.TB
	errs []string
}

func (r *errorRecorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestMarkerStoreCheck(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("written for an amd64 machine: its own executable is the foreign result")
	}
	arm64, _ := platform.Parse("linux/arm64")
	v3, _ := platform.Parse("linux/amd64/v3")
	var imgs []*ociimage.Image
	for _, s := range []string{"linux/amd64", "linux/arm64"} {
		p, _ := platform.Parse(s)
		l, err := ociimage.LayerFromFiles(map[string]ociimage.File{"/etc/os": {Data: []byte(s)}})
		if err != nil {
			t.Fatal(err)
		}
		img, err := ociimage.Build(ociimage.Config{Platform: p}, l)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	base, err := ociimage.Index(imgs...)
	if err != nil {
		t.Fatal(err)
	}
	m, err := newMarkerStore(cellBox{dir: t.TempDir(), p: v3}, base)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.Platforms(), " "); got != "linux/amd64/v3 linux/amd64 linux/arm64" {
		t.Errorf("platforms %q: want the cell's first, then the base's", got)
	}

	m, err = newMarkerStore(cellBox{dir: t.TempDir(), p: arm64}, base)
	if err != nil {
		t.Fatal(err)
	}
	result := t.TempDir()
	if err := os.WriteFile(filepath.Join(result, "platform-marker"), []byte("linux/amd64"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(result, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	host, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(result, "bin", "busybox"), host, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/bin/busybox", filepath.Join(result, "bin", "sh")); err != nil {
		t.Fatal(err)
	}
	r := &errorRecorder{TB: t}
	if m.Check(r, result) || len(r.errs) != 1 {
		t.Fatalf("Check of an amd64 result for an arm64 cell passed or reported %d times: %q", len(r.errs), r.errs)
	}
	for _, want := range []string{`/platform-marker = "linux/amd64", want "linux/arm64"`, "/bin/sh is built for EM_X86_64, want EM_AARCH64"} {
		if !strings.Contains(r.errs[0], want) {
			t.Errorf("Check's report lacks %q:\n%s", want, r.errs[0])
		}
	}
}
