package workers

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ctd "github.com/containerd/containerd/v2/client"

	"github.com/matrixbox/matrixbox/internal/box"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/sandbox"
)

// cellImage is an axis value naming the image of its cells.
type cellImage string

func (c cellImage) ImageRef() string { return string(c) }

func TestImageOf(t *testing.T) {
	cells, err := matrix.Expand(
		matrix.Strings("worker", "containerd"),
		matrix.NewAxis("color", matrix.Value{Name: "red", V: "red"}),
		matrix.NewAxis("os", matrix.Value{Name: "a", V: cellImage("example.org/a:1")}, matrix.Value{Name: "none", V: cellImage("")}),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := imageOf(cells[0], "def:1"); got != "example.org/a:1" {
		t.Errorf("cell with an image: %q, want example.org/a:1", got)
	}
	if got := imageOf(cells[1], "def:1"); got != "def:1" {
		t.Errorf("cell whose value names no image: %q, want the worker's def:1", got)
	}
}

// TestContainerdCellImage runs sb.Cmd in a cell whose axis value names an
// image served by a mirror: the command must see that image's files, not
// the default busybox's.
func TestContainerdCellImage(t *testing.T) {
	w := Containerd()
	if err := w.(sandbox.Checker).Check(); err != nil {
		t.Skipf("worker containerd unavailable: %v", err)
	}
	root := t.TempDir()
	for _, d := range []string{"bin", "tmp"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bb, err := os.ReadFile(hostBusybox)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin", "busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"sh", "sleep", "cat"} {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", l)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "cell-image"), []byte("from the cell's image\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := mirror.New(filepath.Join(t.TempDir(), "mirror"))
	t.Cleanup(func() { _ = m.Close() })
	ctx := context.Background()
	const ref = "docker.io/matrixbox/cellimage:1"
	if err := m.Ensure(ctx, map[string]string{ref: "rootfs:" + root}); err != nil {
		t.Fatal(err)
	}
	cells, err := matrix.Expand(matrix.Strings("worker", w.Name()), matrix.NewAxis("img", matrix.Value{Name: "cellimage", V: cellImage(ref)}))
	if err != nil {
		t.Fatal(err)
	}
	b, err := box.Open(ctx, box.Spec{Config: sandbox.Config{Cell: cells[0], Mirror: m.Addr(), MirrorHosts: m.Hosts()}, Worker: w})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	out, err := b.Cmd("cat", "/cell-image").CombinedOutput()
	if err != nil || string(out) != "from the cell's image\n" {
		t.Errorf("cat /cell-image in the cell's container: %v %q", err, out)
	}
	if err := b.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if t.Failed() {
		t.Log(b.Logs().String())
	}
	if !strings.Contains(b.Logs().String(), "image ready") {
		t.Errorf("no image line in the logs:\n%s", b.Logs().String())
	}
}

// TestContainerdAddressAndImage: containerd's own Go client connects to
// sb.Address() as it is, and the image the sandbox's commands run in is
// in containerd before the first sb.Cmd (issue 22: client.New failed with
// "invalid (non-empty) authority: unix:", and the image appeared only with
// the first command).
func TestContainerdAddressAndImage(t *testing.T) {
	w := Containerd()
	if err := w.(sandbox.Checker).Check(); err != nil {
		t.Skipf("worker containerd unavailable: %v", err)
	}
	cells, err := matrix.Expand(matrix.Strings("worker", w.Name()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b, err := box.Open(ctx, box.Spec{Config: sandbox.Config{Cell: cells[0]}, Worker: w})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if t.Failed() {
			t.Log(b.Logs().String())
		}
	}()
	c, err := ctd.New(b.Address(), ctd.WithDefaultNamespace(containerdNamespace))
	if err != nil {
		t.Fatalf("containerd's client.New(%q): %v", b.Address(), err)
	}
	defer c.Close()
	if _, err := c.Version(ctx); err != nil {
		t.Fatalf("Version at %s: %v", b.Address(), err)
	}
	imgs, err := c.ListImages(ctx)
	if err != nil || len(imgs) != 1 {
		t.Fatalf("before any sb.Cmd: %d images in namespace %s (%v), want the sandbox's one", len(imgs), containerdNamespace, err)
	}
	if env := b.Cmd("true").Env; !slices.Contains(env, "CONTAINERD_ADDRESS="+b.Address()) {
		t.Errorf("sb.Address() %q is not CONTAINERD_ADDRESS in %q", b.Address(), env)
	}
}
