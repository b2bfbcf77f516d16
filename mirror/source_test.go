package mirror

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/mirror/image"
)

// markerLayout writes a two-platform index under ref "markers" and returns
// the layout directory and the index digest.
func markerLayout(t *testing.T) (string, string) {
	t.Helper()
	base, err := image.LayerFromFiles(map[string]image.File{"/etc/hello": {Data: []byte("hi\n")}})
	if err != nil {
		t.Fatal(err)
	}
	var imgs []*image.Image
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := image.Build(image.Config{Platform: platformOf(arch)}, base)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	idx, err := image.MarkerIndex(imgs, "linux/amd64", "linux/arm64")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "layout")
	desc, err := image.WriteLayout(dir, "markers", idx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := image.WriteLayout(dir, "other", imgs[0]); err != nil {
		t.Fatal(err)
	}
	return dir, desc.Digest.String()
}

func TestEnsureLocalSources(t *testing.T) {
	ctx := context.Background()
	layout, idxDigest := markerLayout(t)
	rootfs := t.TempDir()
	os.MkdirAll(filepath.Join(rootfs, "etc"), 0o755)
	os.WriteFile(filepath.Join(rootfs, "etc/os-release"), []byte("ID=test\n"), 0o644)
	bin, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("needs a static binary: apt-get install busybox-static")
	}
	dir := t.TempDir()
	m := newTestMirror(t, dir)
	imgs := map[string]string{
		"markers:1": "oci-layout:" + layout + "@markers",
		"rootfs:1":  "rootfs:" + rootfs,
		"bin:1":     "binary:" + bin,
	}
	if err := m.Ensure(ctx, imgs); err != nil {
		t.Fatal(err)
	}
	if got := resolveOn(t, m.Addr()+"/library/markers:1"); got != idxDigest {
		t.Errorf("markers:1 is %s, want the layout's index %s", got, idxDigest)
	}
	if err := m.Ensure(ctx, imgs); err != nil {
		t.Fatal(err)
	}
	if s := m.Stats(); s.Copies != 3 || s.Hits != 3 {
		t.Errorf("stats %+v, want 3 copies then 3 hits", s)
	}
	// A changed rootfs is copied again.
	os.WriteFile(filepath.Join(rootfs, "etc/new"), []byte("x"), 0o644)
	if err := m.Ensure(ctx, map[string]string{"rootfs:1": "rootfs:" + rootfs}); err != nil {
		t.Fatal(err)
	}
	if s := m.Stats(); s.Copies != 4 {
		t.Errorf("changed rootfs: stats %+v, want a 4th copy", s)
	}
	if p := partials(t, dir); len(p) != 0 {
		t.Errorf("partial content left: %v", p)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "recipes")); len(ents) != 0 {
		t.Errorf("scratch layouts left: %v", ents)
	}
}

func TestEnsureLocalBadInput(t *testing.T) {
	layout, _ := markerLayout(t)
	garbage := filepath.Join(t.TempDir(), "corrupt.tar")
	os.WriteFile(garbage, []byte("this is not a tar"), 0o644)
	missing := filepath.Join(t.TempDir(), "no-such-layout")
	m := newTestMirror(t, t.TempDir())
	for src, want := range map[string]string{
		"oci-layout:" + missing:           missing,
		"oci-layout:" + garbage:           garbage,
		"docker-archive:" + garbage:       garbage,
		"oci-layout:" + layout:            "name one with @REF",
		"oci-layout:" + layout + "@nope":  `no ref "nope"`,
		"binary:" + garbage:               "not an ELF",
		"rootfs:" + missing:               missing,
		"recipe:debian:99":                `unknown Debian version "99"`,
		"recipe:busybox?arch=amd64/v9/zz": "unknown architecture",
		"recipe:alpine":                   `unknown recipe "alpine"`,
	} {
		err := m.Ensure(context.Background(), map[string]string{"bad:1": src})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Ensure from %s: %v, want an error saying %q", src, err, want)
		}
	}
}

func TestRecipeBusybox(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads busybox-static for two architectures")
	}
	ctx := context.Background()
	dir := recipeCacheDir(t)
	m := newTestMirror(t, dir)
	layoutDir, err := m.Recipe(ctx, "recipe:busybox")
	if err != nil {
		t.Fatal(err)
	}
	l, err := image.OpenLayout(layoutDir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	idx, err := l.FindIndex("image")
	if err != nil {
		t.Fatal(err)
	}
	var checks []image.Assertion
	checks = append(checks, image.Platforms("linux/amd64", "linux/arm64"))
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		checks = append(checks, image.ForPlatform(p,
			image.Platform(p), image.LayerCount(2),
			image.FileMode("/bin/busybox", 0o755),
			image.FileMode("/bin/sh", os.ModeSymlink|0o777),
			image.Label("org.matrixbox.recipe", "recipe:busybox")))
	}
	image.Check(t, idx, checks...)
	for _, img := range idx.Images {
		elfMachineIs(t, img, "/bin/busybox", img.Platform().Architecture)
	}
	// Another process finds it cached: no rebuild, same layout.
	again, err := newTestMirror(t, dir).Recipe(ctx, "recipe:busybox")
	if err != nil || again != layoutDir {
		t.Errorf("second Recipe: %s, %v; want the cached %s", again, err, layoutDir)
	}
	if err := m.Ensure(ctx, map[string]string{"busybox:latest": "recipe:busybox"}); err != nil {
		t.Fatal(err)
	}
	if got := resolveOn(t, m.Addr()+"/library/busybox:latest"); got != idx.Descriptor.Digest.String() {
		t.Errorf("mirror serves %s, want the recipe's index %s", got, idx.Descriptor.Digest)
	}
}

func TestRecipeDebian(t *testing.T) {
	if testing.Short() {
		t.Skip("runs debootstrap")
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		t.Skip("recipe:debian needs debootstrap: apt-get install debootstrap")
	}
	if os.Geteuid() != 0 {
		t.Skip("recipe:debian needs root for debootstrap")
	}
	versions := map[string]string{"11": "bullseye", "12": "bookworm", "13": "trixie"}
	only := os.Getenv("MATRIXBOX_TEST_DEBIAN") // e.g. "12" to build fewer suites
	for _, v := range []string{"11", "12", "13"} {
		t.Run("debian-"+v, func(t *testing.T) {
			if only != "" && !strings.Contains(only, v) {
				t.Skipf("MATRIXBOX_TEST_DEBIAN=%s", only)
			}
			ctx := context.Background()
			m := newTestMirror(t, recipeCacheDir(t))
			layoutDir, err := m.Recipe(ctx, "recipe:debian:"+v)
			if errors.Is(err, ErrMissingTool) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			l, err := image.OpenLayout(layoutDir)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			idx, err := l.FindIndex("image")
			if err != nil {
				t.Fatal(err)
			}
			p := "linux/" + hostDebArch()
			image.Check(t, idx, image.Platforms(p), image.ForPlatform(p,
				image.Platform(p), image.LayerCount(1),
				image.FileContains("/etc/os-release", `VERSION_ID="`+v+`"`),
				image.FileContains("/etc/os-release", versions[v]),
				image.FileMode("/bin/bash", 0o755),
			))
		})
	}
}

// recipeCacheDir is where recipe tests keep their outputs: recipes are slow
// to build, so tests share MATRIXBOX_MIRROR_DIR when it is set (as the real
// mirror does) and use a fresh directory otherwise.
func recipeCacheDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	return t.TempDir()
}

func TestDigestMismatchInLayout(t *testing.T) {
	layout, _ := markerLayout(t)
	l, err := image.OpenLayout(layout)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := l.FindIndex("markers")
	l.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Damage the marker layer of one platform, keeping its size.
	layer := idx.Images[0].Manifest.Layers[len(idx.Images[0].Manifest.Layers)-1]
	p := filepath.Join(layout, "blobs", "sha256", layer.Digest.Encoded())
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	err = newTestMirror(t, dir).Ensure(context.Background(), map[string]string{"markers:1": "oci-layout:" + layout + "@markers"})
	if !errors.Is(err, ErrDigestMismatch) || !strings.Contains(err.Error(), layer.Digest.String()) || !strings.Contains(err.Error(), layout) {
		t.Fatalf("Ensure from a damaged layout: %v, want ErrDigestMismatch naming the layout and %s", err, layer.Digest)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "images")); len(ents) != 0 {
		t.Errorf("a failed copy left a marker: %v", ents)
	}
}
