package mirror

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/matrixbox/matrixbox/internal/testkit"
)

// Environment of a child process: the test binary re-executed to run
// TestChildEnsure, standing for another `go test` process.
const (
	envChild       = "MATRIXBOX_MIRROR_TEST_CHILD" // "ensure" or "stall"
	envChildDir    = "MATRIXBOX_MIRROR_TEST_DIR"
	envChildSource = "MATRIXBOX_MIRROR_TEST_SOURCE"
	envChildTarget = "MATRIXBOX_MIRROR_TEST_TARGET"
)

// TestChildEnsure is not a test of its own: it is the body of the child
// processes of the tests below, and does nothing unless started by them.
func TestChildEnsure(t *testing.T) {
	mode := os.Getenv(envChild)
	if mode == "" {
		t.Skip("runs only as a child process of TestTwoProcesses*/TestKilled*")
	}
	dir := os.Getenv(envChildDir)
	if mode == "stall" {
		// Fault injector: once a megabyte of the big layer is through,
		// say so and hang until killed.
		stalled := filepath.Join(filepath.Dir(dir), "stalled")
		faultInject = func(_ digest.Digest, done int64) {
			if done >= 1<<20 {
				os.WriteFile(stalled, nil, 0o644)
				select {}
			}
		}
	}
	// Wait for the parent's go, so that both children start together.
	io.ReadAll(os.Stdin)
	m := New(dir)
	defer m.Close()
	if err := m.Ensure(context.Background(), map[string]string{os.Getenv(envChildTarget): os.Getenv(envChildSource)}); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("stats %+v\n", m.Stats())
}

// startChild starts TestChildEnsure in a child process, which waits for
// its stdin to be closed before it ensures target.
func startChild(t *testing.T, mode, dir, target, src string) (*testkit.Child, io.WriteCloser) {
	t.Helper()
	cmd := exec.Command(testkit.Self(), "-test.run=^TestChildEnsure$", "-test.v")
	cmd.Env = append(os.Environ(), envChild+"="+mode, envChildDir+"="+dir, envChildSource+"="+src, envChildTarget+"="+target)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	return testkit.Start(t, cmd), stdin
}

func TestTwoProcessesMirrorTheSameImageOnce(t *testing.T) {
	img := newMemImage(t, 32<<20, 10)
	src, _ := serveMemImage(t, img, "big/img:1")
	dir := filepath.Join(t.TempDir(), "mirror")

	var kids []*testkit.Child
	var gos []io.WriteCloser
	for range 2 {
		kid, stdin := startChild(t, "ensure", dir, "big:1", src)
		kids, gos = append(kids, kid), append(gos, stdin)
	}
	for _, g := range gos {
		g.Close()
	}
	copied := 0
	for i, kid := range kids {
		if out, err := kid.Wait(); err != nil {
			t.Errorf("child %d: %v\n%s", i, err, out)
		}
		if strings.Contains(kid.Output(), "Copies:1") {
			copied++
		}
	}
	if copied != 1 {
		t.Errorf("%d children say they copied, want exactly 1:\n%s\n%s", copied, kids[0].Output(), kids[1].Output())
	}
	if lines := copyLines(t, dir); len(lines) != 1 {
		t.Errorf("copies.log: %d lines, want 1: %q", len(lines), lines)
	}
	if p := partials(t, dir); len(p) != 0 {
		t.Errorf("partial content left: %v", p)
	}
	m := newTestMirror(t, dir)
	if _, ok := m.present(mustTarget(t, "big:1"), src, ""); !ok {
		t.Errorf("image not present after both children")
	}
}

func TestKilledMidCopyLeavesMirrorUsable(t *testing.T) {
	img := newMemImage(t, 16<<20, 11)
	src, _ := serveMemImage(t, img, "kill/img:1")
	base := t.TempDir()
	dir := filepath.Join(base, "mirror")

	kid, stdin := startChild(t, "stall", dir, "kill:1", src)
	stdin.Close()
	testkit.WaitFor(t, 30*time.Second, "the child to reach the middle of the copy", func() (string, bool) {
		_, err := os.Stat(filepath.Join(base, "stalled"))
		return kid.Output(), err == nil
	})
	if err := kid.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	kid.Wait()
	if p := partials(t, dir); len(p) == 0 {
		t.Fatalf("the killed child left no upload in progress: the kill did not land mid-copy")
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "images")); len(entries) != 0 {
		t.Fatalf("the killed child recorded an image: %v", entries)
	}

	m := newTestMirror(t, dir, WithLockTimeout(10*time.Second))
	if err := m.Ensure(context.Background(), map[string]string{"kill:1": src}); err != nil {
		t.Fatalf("Ensure after a killed copy: %v", err)
	}
	if s := m.Stats(); s.Copies != 1 {
		t.Errorf("stats %+v, want 1 copy", s)
	}
	if p := partials(t, dir); len(p) != 0 {
		t.Errorf("partial content left after the next run: %v", p)
	}
	if got := resolveOn(t, m.Addr()+"/library/kill:1"); got != img.root.Digest.String() {
		t.Errorf("mirror serves %s, want %s", got, img.root.Digest)
	}
}
