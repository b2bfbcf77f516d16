package mirror

import (
	"bytes"
	"context"
	"io/fs"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/ociimage"
)

// muslArch is musl's name of the host's machine (x86_64, aarch64).
func muslArch(t *testing.T) string {
	t.Helper()
	tg, err := busyboxTargetFor(hostDebArch(), "musl")
	if err != nil {
		t.Skip(err)
	}
	return tg.kbuildArch
}

// TestRecipeBusyboxMusl: busybox:stable-musl's stand-in is the official
// image's tree around a busybox linked statically against musl, not glibc.
func TestRecipeBusyboxMusl(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles busybox against musl (cached per machine)")
	}
	const src = "recipe:busybox?libc=musl"
	_, idx := recipeIndex(t, newTestMirror(t, recipeCacheDir(t)), src)
	p := "linux/" + hostDebArch()
	ociimage.Check(t, idx, ociimage.Platforms(p), ociimage.ForPlatform(p,
		ociimage.LayerCount(1),
		ociimage.Label("org.matrixbox.recipe", src),
		ociimage.Label("org.matrixbox.busybox.libc", "musl"),
		ociimage.FileMode("/bin/busybox", 0o755),
		ociimage.HasFile("/etc/passwd", busyboxPasswd),
		ociimage.HasFile("/etc/group", busyboxGroup),
		ociimage.NoFile("/etc/nsswitch.conf"), ociimage.NoFile("/lib")))
	img := idx.Images[0]
	elfMachineIs(t, img, "/bin/busybox", hostDebArch())
	notGlibc(t, img, "/bin/busybox")
	names := binNames(t, img)
	for _, a := range defconfigApplets {
		if !strings.Contains(" "+strings.Join(names, " ")+" ", " "+a+" ") {
			t.Errorf("no /bin/%s", a)
		}
	}
	root := t.TempDir()
	unpackLayer(t, img.Layers()[0], root)
	if got := strings.TrimSpace(chrootRun(t, root, "adduser -D user && id user")); got != "uid=1000(user) gid=1000(user) groups=1000(user)" {
		t.Errorf("adduser -D user && id user: %q", got)
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
		t.Skip("compiles busybox against musl (cached per machine)")
	}
	arch := muslArch(t)
	_, idx := recipeIndex(t, newTestMirror(t, recipeCacheDir(t)), "recipe:alpine")
	p := "linux/" + hostDebArch()
	ociimage.Check(t, idx, ociimage.Platforms(p), ociimage.ForPlatform(p,
		ociimage.LayerCount(1),
		ociimage.Label("org.matrixbox.recipe", "recipe:alpine"),
		ociimage.HasFile("/etc/alpine-release", alpineRelease+"\n"),
		ociimage.HasFile("/etc/passwd", alpinePasswd),
		ociimage.HasFile("/etc/group", alpineGroup),
		ociimage.FileMode("/etc/shadow", 0o640),
		ociimage.FileMode("/sbin/apk", 0o755),
		ociimage.FileMode("/bin/sh", fs.ModeSymlink|0o777),
		ociimage.FileMode("/lib/ld-musl-"+arch+".so.1", 0o755),
		ociimage.FileMode("/tmp", fs.ModeDir|fs.ModeSticky|0o777),
		ociimage.FileMode("/root", fs.ModeDir|0o700)))
	img := idx.Images[0]
	notGlibc(t, img, "/bin/busybox")
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
		"/lib/ld-musl-" + arch + ".so.1 2>&1 | head -1": "musl libc (" + arch + ")",
	} {
		if got := strings.TrimSpace(chrootRun(t, root, script)); got != want {
			t.Errorf("%s: %q, want %q", script, got, want)
		}
	}
	// Another process finds it cached: the same layout.
	again, err := newTestMirror(t, recipeCacheDir(t)).Recipe(context.Background(), "recipe:alpine")
	if err != nil || !strings.Contains(again, "alpine-bookworm-") {
		t.Errorf("second Recipe: %s, %v", again, err)
	}
}
