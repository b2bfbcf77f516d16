package mirror

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/internal/testkit"
	"github.com/matrixbox/matrixbox/ociimage"
)

func copyLines(t testing.TB, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "copies.log"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// partials lists what an interrupted copy leaves: upload data and
// temporary files.
func partials(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if strings.Contains(rel, "/_uploads/") || strings.HasSuffix(p, ".tmp") || strings.HasPrefix(d.Name(), ".tmp-") {
			out = append(out, rel)
		}
		return nil
	})
	return out
}

func newTestMirror(t *testing.T, dir string, opts ...Option) *Mirror {
	t.Helper()
	m := New(dir, opts...)
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return m
}

// resolveOn asks the registry at addr what ref's manifest digest is.
func resolveOn(t *testing.T, ref string) string {
	t.Helper()
	_, desc, err := newResolver(nil).Resolve(context.Background(), ref)
	if err != nil {
		t.Fatalf("resolve %s: %v", ref, err)
	}
	return desc.Digest.String()
}

func TestEnsureRemoteCopiesOnceThenHits(t *testing.T) {
	ctx := context.Background()
	img := newMemImage(t, 1<<20, 1)
	src, _ := serveMemImage(t, img, "test/one:1")
	dir := t.TempDir()

	m := newTestMirror(t, dir)
	images := map[string]string{"library/one:1": src, "ghcr.io/owner/one:v1": src}
	if err := m.Ensure(ctx, images); err != nil {
		t.Fatal(err)
	}
	if s := m.Stats(); s.Copies != 2 || s.Hits != 0 {
		t.Errorf("first Ensure: stats %+v, want 2 copies and no hits", s)
	}
	addr := m.Addr()
	for _, ref := range []string{addr + "/library/one:1", addr + "/ghcr.io/owner/one:v1"} {
		if got := resolveOn(t, ref); got != img.root.Digest.String() {
			t.Errorf("%s resolves to %s, want %s", ref, got, img.root.Digest)
		}
	}
	if got, want := m.Hosts(), []string{"docker.io", "ghcr.io"}; !slices.Equal(got, want) {
		t.Errorf("Hosts() = %v, want %v", got, want)
	}

	if err := m.Ensure(ctx, images); err != nil {
		t.Fatal(err)
	}
	// A second mirror over the same directory stands for another process.
	other := newTestMirror(t, dir)
	if err := other.Ensure(ctx, images); err != nil {
		t.Fatal(err)
	}
	if s := other.Stats(); s.Copies != 0 || s.Hits != 2 {
		t.Errorf("warm Ensure in another mirror: stats %+v, want 2 hits and no copy", s)
	}
	if n := len(copyLines(t, dir)); n != 2 {
		t.Errorf("copies.log has %d lines, want 2", n)
	}
	if p := partials(t, dir); len(p) != 0 {
		t.Errorf("partial content left: %v", p)
	}
	if got := resolveOn(t, other.Addr()+"/library/one:1"); got != img.root.Digest.String() {
		t.Errorf("second server resolves %s, want %s", got, img.root.Digest)
	}
}

func TestEnsureRemotePinsDigest(t *testing.T) {
	ctx := context.Background()
	src, _ := serveMemImage(t, newMemImage(t, 1024, 2), "pin/me:1")
	m := newTestMirror(t, t.TempDir())
	if err := m.Ensure(ctx, map[string]string{"pinned:1": src}); err != nil {
		t.Fatal(err)
	}
	// Retag the source: the mirror answers from the digest it pinned,
	// without asking the source again.
	push(ctx, src, newMemImage(t, 1024, 3).root, verifyingProvider{Provider: newMemImage(t, 1024, 3), source: "retag"})
	if err := m.Ensure(ctx, map[string]string{"pinned:1": src}); err != nil {
		t.Fatal(err)
	}
	rec, ok := m.present(mustTarget(t, "pinned:1"), src, "")
	if !ok || !strings.Contains(rec.Pinned, "@sha256:") {
		t.Errorf("record %+v: want present with a pinned digest", rec)
	}
	if s := m.Stats(); s.Copies != 1 || s.Hits != 1 {
		t.Errorf("stats %+v, want 1 copy then 1 hit", s)
	}
}

func mustTarget(t *testing.T, name string) target {
	t.Helper()
	tg, err := parseTarget(name)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func TestEnsureRemoteUnreachableNamesRef(t *testing.T) {
	ref := "127.0.0.1:1/nowhere/img:1"
	err := newTestMirror(t, t.TempDir()).Ensure(context.Background(), map[string]string{"x:1": ref})
	if err == nil || !strings.Contains(err.Error(), ref) {
		t.Fatalf("Ensure from %s: error %v, want one naming the ref", ref, err)
	}
}

func TestEnsureBadInput(t *testing.T) {
	m := newTestMirror(t, t.TempDir())
	for name, src := range map[string]string{
		"UPPER/Case:1": "",
		"ok:1":         "nosuch:/path",
	} {
		err := m.Ensure(context.Background(), map[string]string{name: src})
		if err == nil {
			t.Errorf("Ensure(%q: %q) succeeded", name, src)
			continue
		}
		if !strings.Contains(err.Error(), name) {
			t.Errorf("Ensure(%q: %q): error %q does not name the target", name, src, err)
		}
	}
	if m.Addr() != "" {
		t.Errorf("bad input started the mirror")
	}
}

func TestLockHeldTooLong(t *testing.T) {
	dir := t.TempDir()
	src, _ := serveMemImage(t, newMemImage(t, 1024, 4), "lock/img:1")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	held, err := lockFile(context.Background(), filepath.Join(dir, "lock"), time.Second, "test holding the lock")
	if err != nil {
		t.Fatal(err)
	}
	defer held.unlock()

	m := newTestMirror(t, dir, WithLockTimeout(300*time.Millisecond))
	err = m.Ensure(context.Background(), map[string]string{"img:1": src})
	if !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("Ensure with the lock held: %v, want ErrLockTimeout", err)
	}
	for _, want := range []string{filepath.Join(dir, "lock"), "pid " + itoa(os.Getpid()), "test holding the lock"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestDigestMismatchInSource(t *testing.T) {
	img := newMemImage(t, 4096, 5)
	src, srcDir := serveMemImage(t, img, "bad/img:1")
	// Damage the source registry's copy of the layer, keeping its size.
	h := img.layer.Digest.Encoded()
	data := filepath.Join(srcDir, "docker/registry/v2/blobs/sha256", h[:2], h, "data")
	b, err := os.ReadFile(data)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(data, b, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	err = newTestMirror(t, dir).Ensure(context.Background(), map[string]string{"bad:1": src})
	if !errors.Is(err, ErrDigestMismatch) || !strings.Contains(err.Error(), img.layer.Digest.String()) {
		t.Fatalf("Ensure from a damaged source: %v, want ErrDigestMismatch naming %s", err, img.layer.Digest)
	}
	if n := len(copyLines(t, dir)); n != 0 {
		t.Errorf("a failed copy was logged as a copy")
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "images")); len(entries) != 0 {
		t.Errorf("a failed copy left a marker: %v", entries)
	}
}

func TestDamagedMirrorBlobIsCopiedAgain(t *testing.T) {
	ctx := context.Background()
	img := newMemImage(t, 4096, 6)
	src, _ := serveMemImage(t, img, "heal/img:1")
	dir := t.TempDir()
	m := newTestMirror(t, dir)
	if err := m.Ensure(ctx, map[string]string{"heal:1": src}); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(m.blobPath(img.layer.Digest), 10); err != nil {
		t.Fatal(err)
	}
	if err := m.Ensure(ctx, map[string]string{"heal:1": src}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(m.blobPath(img.layer.Digest)); err != nil || fi.Size() != img.layer.Size {
		t.Fatalf("layer after repair: %v, %v; want %d bytes", fi, err, img.layer.Size)
	}
	if n := len(copyLines(t, dir)); n != 2 {
		t.Errorf("copies.log has %d lines, want 2 (the copy and the repair)", n)
	}
}

func TestRegistryLogGoesToWriter(t *testing.T) {
	var log testkit.Buffer
	addr, stop, err := NewRegistry(context.Background(), t.TempDir(), &log)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v2/: %s", resp.Status)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "response completed") {
		t.Errorf("registry log %q has no request line: its logger is not ours", log.String())
	}
}

// What a process killed during a recipe build or a copy left in the mirror
// directory and the build cache (issue 24 item 11) is removed by the next
// Ensure, even one that copies nothing: build directories, downloads,
// layouts being copied in, compiles, of a process no longer running or
// named by an older matrixbox and old; those of a running process stay.
func TestEnsureRemovesWhatKilledBuildsLeft(t *testing.T) {
	dir := t.TempDir()
	cache := t.TempDir()
	dead := strconv.Itoa(1 << 23)
	live := strconv.Itoa(os.Getpid())
	old := time.Now().Add(-3 * time.Hour)
	mk := func(p string, age time.Time) string {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(p, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "sub", "data"), make([]byte, 4096), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, age, age); err != nil {
			t.Fatal(err)
		}
		return p
	}
	recipes := filepath.Join(dir, "recipes")
	now := time.Now()
	gone := []string{
		mk(filepath.Join(recipes, ".build-busybox-trixie-0123abcd-"+dead+"-1"), now),
		mk(filepath.Join(recipes, ".build-busybox-trixie-0123abcd-2"), old),
		mk(filepath.Join(recipes, ".scratch-"+dead+"-3"), now),
		mk(filepath.Join(recipes, "sources", ".tmp-"+dead+"-4"), now),
		mk(filepath.Join(recipes, "sources", ".tmp-5"), old),
		mk(filepath.Join(cache, ".tmp-busybox-"+dead+"-6"), now),
	}
	kept := []string{
		mk(filepath.Join(recipes, ".build-busybox-trixie-0123abcd-"+live+"-7"), old),
		mk(filepath.Join(recipes, ".scratch-"+live+"-8"), old),
		mk(filepath.Join(recipes, "sources", ".tmp-9"), now),
		mk(filepath.Join(cache, ".tmp-busybox-"+live+"-10"), old),
	}
	var log testkit.Buffer
	m := newTestMirror(t, dir, WithLog(&log))
	m.buildCache = cache
	if err := m.Ensure(context.Background(), map[string]string{"library/x:1": "rootfs:" + t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	for _, p := range gone {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s is left", p)
		}
		if !strings.Contains(log.String(), "removed "+p+", left by a killed build") {
			t.Errorf("the log does not name %s:\n%s", p, log.String())
		}
	}
	for _, p := range kept {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s, in use or young, was removed", p)
		}
	}
}

// A disk that fills up during a copy into the mirror is reported as no
// space left on device, with the path (issue 24 item 10): the copy writes
// the storage itself, where a push over HTTP said only "unexpected status
// from PUT … 404 Not Found" or 416. The mirror stays usable: the image is
// not recorded, and a smaller one is copied.
func TestEnsureOnAFullDiskSaysNoSpace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	big := t.TempDir()
	data := make([]byte, 3<<20)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(big, "data"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	// The source is a layout off the full disk: what fails is the copy
	// into the mirror, not the source's own preparation.
	img, err := buildRootfs(big)
	if err != nil {
		t.Fatal(err)
	}
	layout := t.TempDir()
	if _, err := ociimage.WriteLayout(layout, "image", img); err != nil {
		t.Fatal(err)
	}
	src := "oci-layout:" + layout + "@image"
	m := newTestMirror(t, filepath.Join(dir, "mirror"))
	err = m.Ensure(context.Background(), map[string]string{"library/big:1": src})
	if err == nil || !strings.Contains(err.Error(), "no space left on device") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Ensure on a full disk: %v; want no space left on device, with the path", err)
	}
	t.Logf("Ensure on a full disk: %v", err)
	if _, ok := m.present(mustTarget(t, "library/big:1"), src, ""); ok {
		t.Error("the image that did not fit is recorded present")
	}
	if err := m.Ensure(context.Background(), map[string]string{"library/small:1": "rootfs:" + t.TempDir()}); err != nil {
		t.Errorf("a small image after the failed copy: %v", err)
	}
}
