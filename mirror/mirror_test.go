package mirror

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/internal/testkit"
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
