package mirror

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/ociimage"
)

// markerLayout writes a two-platform index under ref "markers" and returns
// the layout directory and the index digest.
func markerLayout(t *testing.T) (string, string) {
	t.Helper()
	base, err := ociimage.LayerFromFiles(map[string]ociimage.File{"/etc/hello": {Data: []byte("hi\n")}})
	if err != nil {
		t.Fatal(err)
	}
	var imgs []*ociimage.Image
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := ociimage.Build(ociimage.Config{Platform: platformOf(arch)}, base)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	both, err := ociimage.Index(imgs...)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := ociimage.MarkerIndex(both, "linux/amd64", "linux/arm64")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "layout")
	desc, err := ociimage.WriteLayout(dir, "markers", idx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ociimage.WriteLayout(dir, "other", imgs[0]); err != nil {
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
		"oci-layout:" + missing:                 missing,
		"oci-layout:" + garbage:                 garbage,
		"docker-archive:" + garbage:             garbage,
		"oci-layout:" + layout:                  "name one with @REF",
		"oci-layout:" + layout + "@nope":        `no ref "nope"`,
		"binary:" + garbage:                     "not an ELF",
		"rootfs:" + missing:                     missing,
		"recipe:debian:99":                      `unknown Debian version "99"`,
		"recipe:busybox?arch=amd64/v9/zz":       "unknown architecture",
		"recipe:busybox?arch=riscv64":           `builds for amd64 and arm64, not "riscv64"`,
		"recipe:fedora":                         `unknown recipe "fedora"`,
		"recipe:busybox?libc=uclibc":            `unknown libc "uclibc"`,
		"recipe:debian:12?libc=musl":            "only recipe:busybox takes libc",
		"recipe:busybox?libc=musl&arch=riscv64": `builds for amd64 and arm64, not "riscv64"`,
		// Offline, a registry's image says how to give it a local source.
		"127.0.0.1:1/nothing/here:latest": "MATRIXBOX_COMPAT_STANDINS",
	} {
		err := m.Ensure(context.Background(), map[string]string{"bad:1": src})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Ensure from %s: %v, want an error saying %q", src, err, want)
		}
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
	// e.g. "arm64": a foreign architecture is bootstrapped under qemu-user
	// and takes many minutes, so it is asked for, not default.
	arch := os.Getenv("MATRIXBOX_TEST_DEBIAN_ARCH")
	if arch == "" {
		arch = hostDebArch()
	}
	for _, v := range []string{"11", "12", "13"} {
		t.Run("debian-"+v+"-"+arch, func(t *testing.T) {
			if only != "" && !strings.Contains(only, v) {
				t.Skipf("MATRIXBOX_TEST_DEBIAN=%s", only)
			}
			m := newTestMirror(t, recipeCacheDir(t))
			// The packages the qemu-img example asks for: one build
			// serves both.
			src := "recipe:debian:" + v + "?packages=qemu-utils"
			if arch != hostDebArch() {
				src += "&arch=" + arch
			}
			_, idx := recipeIndex(t, m, src)
			p := "linux/" + arch
			ociimage.Check(t, idx, ociimage.Platforms(p), ociimage.ForPlatform(p,
				ociimage.Platform(p), ociimage.LayerCount(1),
				ociimage.FileContains("/etc/os-release", `VERSION_ID="`+v+`"`),
				ociimage.FileContains("/etc/os-release", versions[v]),
				ociimage.FileMode("/bin/bash", 0o755),
				ociimage.FileMode("/usr/bin/qemu-img", 0o755),
			))
			for _, img := range idx.Images {
				elfMachineIs(t, img, "/bin/bash", arch)
			}
		})
	}
}

// recipeCacheDir is where recipe tests keep their outputs: recipes are slow
// to build, so the tests use the machine's shared mirror directory, as the
// examples do, and each recipe is built once per machine. The cache is
// keyed by recipe, suite, architecture and packages, so what these tests
// check is exactly what the examples run on.
// recipeIndex builds (or finds) recipe src in m and opens its index,
// skipping the test when the host lacks a tool the recipe needs.
func recipeIndex(t *testing.T, m *Mirror, src string) (string, *ociimage.IndexImage) {
	t.Helper()
	layoutDir, err := m.Recipe(context.Background(), src)
	if errors.Is(err, ErrMissingTool) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	l, err := ociimage.OpenLayout(layoutDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	idx, err := l.FindIndex("image")
	if err != nil {
		t.Fatal(err)
	}
	return layoutDir, idx
}

func recipeCacheDir(t *testing.T) string {
	t.Helper()
	d, err := DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDigestMismatchInLayout(t *testing.T) {
	layout, _ := markerLayout(t)
	l, err := ociimage.OpenLayout(layout)
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
