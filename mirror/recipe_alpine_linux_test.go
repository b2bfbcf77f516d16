package mirror

import (
	"bytes"
	"context"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/ociimage"
)

// TestRecipeBusyboxMusl: busybox:stable-musl's stand-in is the official
// image's tree around a busybox linked statically against musl, not glibc.
func TestRecipeBusyboxMusl(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles busybox against musl for two architectures (cached per machine)")
	}
	const src = "recipe:busybox?libc=musl"
	_, idx := recipeIndex(t, newTestMirror(t, recipeCacheDir(t)), src)
	checks := []ociimage.Assertion{ociimage.Platforms("linux/amd64", "linux/arm64")}
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		checks = append(checks, ociimage.ForPlatform(p,
			ociimage.LayerCount(1),
			ociimage.Label("org.matrixbox.recipe", src),
			ociimage.Label("org.matrixbox.busybox.libc", "musl"),
			ociimage.FileMode("/bin/busybox", 0o755),
			ociimage.HasFile("/etc/passwd", busyboxPasswd),
			ociimage.HasFile("/etc/group", busyboxGroup),
			ociimage.NoFile("/etc/nsswitch.conf"), ociimage.NoFile("/lib")))
	}
	ociimage.Check(t, idx, checks...)
	for _, img := range idx.Images {
		arch := img.Platform().Architecture
		elfMachineIs(t, img, "/bin/busybox", arch)
		notGlibc(t, img, "/bin/busybox")
		names := binNames(t, img)
		for _, a := range defconfigApplets {
			if !slices.Contains(names, a) {
				t.Errorf("%s: no /bin/%s", arch, a)
			}
		}
		if arch != hostDebArch() {
			continue
		}
		root := t.TempDir()
		unpackLayer(t, img.Layers()[0], root)
		if got := strings.TrimSpace(chrootRun(t, root, "adduser -D user && id user")); got != "uid=1000(user) gid=1000(user) groups=1000(user)" {
			t.Errorf("adduser -D user && id user: %q", got)
		}
	}
}

// notGlibc fails unless the static binary at path carries none of glibc's
// version strings.
func notGlibc(t *testing.T, img *ociimage.Image, path string) {
	t.Helper()
	b, err := img.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("GLIBC")) || bytes.Contains(b, []byte("GNU C Library")) {
		t.Errorf("%s is linked against glibc", path)
	}
}

// TestRecipeAlpine: what BuildKit's suites read of alpine:latest is in the
// stand-in (/etc/alpine-release, /sbin/apk, Alpine's users, busybox at
// Alpine's paths, musl's loader), and apk says that it installs nothing.
func TestRecipeAlpine(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles busybox against musl for two architectures (cached per machine)")
	}
	_, idx := recipeIndex(t, newTestMirror(t, recipeCacheDir(t)), "recipe:alpine")
	checks := []ociimage.Assertion{ociimage.Platforms("linux/amd64", "linux/arm64")}
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		arch := busyboxMuslTargets[strings.TrimPrefix(p, "linux/")].kbuildArch
		checks = append(checks, ociimage.ForPlatform(p,
			ociimage.LayerCount(1),
			ociimage.Label("org.matrixbox.recipe", "recipe:alpine"),
			ociimage.HasFile("/etc/alpine-release", alpineRelease+"\n"),
			ociimage.HasFile("/etc/passwd", alpinePasswd),
			ociimage.HasFile("/etc/group", alpineGroup),
			ociimage.HasFile("/etc/apk/arch", arch+"\n"),
			ociimage.FileMode("/etc/shadow", 0o640),
			ociimage.FileMode("/sbin/apk", 0o755),
			ociimage.FileMode("/bin/sh", fs.ModeSymlink|0o777),
			ociimage.FileMode("/lib/ld-musl-"+arch+".so.1", 0o755),
			ociimage.FileMode("/tmp", fs.ModeDir|fs.ModeSticky|0o777),
			ociimage.FileMode("/root", fs.ModeDir|0o700)))
	}
	ociimage.Check(t, idx, checks...)
	for _, img := range idx.Images {
		arch := img.Platform().Architecture
		elfMachineIs(t, img, "/bin/busybox", arch)
		elfMachineIs(t, img, "/lib/ld-musl-"+busyboxMuslTargets[arch].kbuildArch+".so.1", arch)
		notGlibc(t, img, "/bin/busybox")
		if arch != hostDebArch() {
			continue
		}
		musl := busyboxMuslTargets[arch].kbuildArch
		root := t.TempDir()
		unpackLayer(t, img.Layers()[0], root)
		for script, want := range map[string]string{
			"cat /etc/alpine-release":                       alpineRelease,
			". /etc/os-release && echo $ID":                 "alpine",
			"[[ -f /sbin/apk ]] && echo apk":                "apk",
			"readlink /bin/sh":                              "/bin/busybox",
			"id nobody":                                     "uid=65534(nobody) gid=65534(nobody) groups=65534(nobody)",
			"id daemon":                                     "uid=2(daemon) gid=2(daemon) groups=2(daemon),1(bin),4(adm)",
			"adduser -D user && id user":                    "uid=1000(user) gid=1000(user) groups=1000(user)",
			"apk add git 2>&1 || echo status $?":            "apk: this alpine is matrixbox's offline stand-in (recipe:alpine): it has no package manager and no package index; mirror the real alpine image for tests that install packages\nstatus 1",
			"/lib/ld-musl-" + musl + ".so.1 2>&1 | head -1": "musl libc (" + musl + ")",
		} {
			if got := strings.TrimSpace(chrootRun(t, root, script)); got != want {
				t.Errorf("%s: %q, want %q", script, got, want)
			}
		}
	}
	// Another process finds it cached: the same layout.
	again, err := newTestMirror(t, recipeCacheDir(t)).Recipe(context.Background(), "recipe:alpine")
	if err != nil || !strings.Contains(again, "alpine-bookworm-") {
		t.Errorf("second Recipe: %s, %v", again, err)
	}
}
