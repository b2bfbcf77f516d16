package mirror

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/ociimage"
)

// defconfigApplets are some of the applets of upstream's defconfig that the
// suites built for the official image use, the two that Debian's own build
// leaves out (adduser, addgroup), and the two the official builder adds to
// defconfig (ar, inotifyd).
var defconfigApplets = []string{
	"[", "[[", "addgroup", "adduser", "ar", "ash", "awk", "cat", "chmod", "chown", "cp",
	"delgroup", "deluser", "env", "find", "getty", "grep", "gzip", "hostname", "httpd", "id",
	"inotifyd", "ip", "login", "ls", "mkdir", "nc", "passwd", "ping", "ps", "sed", "sh",
	"sleep", "stat", "su", "tar", "touch", "vi", "wget", "xargs",
}

// busyboxIndex builds recipe:busybox in the mirror directory dir, or finds
// it there; buildCache, when not "", replaces the machine's build cache.
func busyboxIndex(t *testing.T, dir, buildCache string) (string, *ociimage.IndexImage) {
	t.Helper()
	m := newTestMirror(t, dir)
	m.buildCache = buildCache
	return recipeIndex(t, m, "recipe:busybox")
}

func TestRecipeBusybox(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles busybox for two architectures (cached per machine)")
	}
	dir := recipeCacheDir(t)
	layoutDir, idx := busyboxIndex(t, dir, "")
	checks := []ociimage.Assertion{ociimage.Platforms("linux/amd64", "linux/arm64")}
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		checks = append(checks, ociimage.ForPlatform(p,
			ociimage.Platform(p), ociimage.LayerCount(1),
			ociimage.Label("org.matrixbox.recipe", "recipe:busybox"),
			ociimage.FileMode("/bin/busybox", 0o755),
			ociimage.FileMode("/tmp", fs.ModeDir|fs.ModeSticky|0o777),
			ociimage.FileMode("/root", fs.ModeDir|0o700),
			ociimage.FileMode("/etc/shadow", 0o600),
			ociimage.FileMode("/usr/bin/env", fs.ModeSymlink|0o777),
			ociimage.HasFile("/etc/passwd", busyboxPasswd),
			ociimage.HasFile("/etc/group", busyboxGroup),
			ociimage.HasFile("/etc/shadow", busyboxShadow),
			ociimage.HasFile("/etc/localtime", string(tzifUTC())),
			ociimage.NoFile("/sbin"), ociimage.NoFile("/lib")))
	}
	ociimage.Check(t, idx, checks...)
	var applets [][]string
	for _, img := range idx.Images {
		arch := img.Platform().Architecture
		elfMachineIs(t, img, "/bin/busybox", arch)
		names := binNames(t, img)
		for _, a := range defconfigApplets {
			if !slices.Contains(names, a) {
				t.Errorf("%s: no /bin/%s", arch, a)
			}
		}
		applets = append(applets, names)
	}
	if len(applets) == 2 && !slices.Equal(applets[0], applets[1]) {
		t.Errorf("the two architectures have different applets:\n%q\n%q", applets[0], applets[1])
	}

	// Another process finds it cached: no rebuild, same layout.
	again, err := newTestMirror(t, dir).Recipe(context.Background(), "recipe:busybox")
	if err != nil || again != layoutDir {
		t.Errorf("second Recipe: %s, %v; want the cached %s", again, err, layoutDir)
	}
	// A fresh mirror directory takes the binaries from the machine's build
	// cache and lays out the same image.
	if _, fresh := busyboxIndex(t, t.TempDir(), ""); fresh.Descriptor.Digest != idx.Descriptor.Digest {
		t.Errorf("recipe:busybox in a fresh mirror directory: %s, want %s", fresh.Descriptor.Digest, idx.Descriptor.Digest)
	}
	m := newTestMirror(t, dir)
	if err := m.Ensure(context.Background(), map[string]string{"busybox:latest": "recipe:busybox"}); err != nil {
		t.Fatal(err)
	}
	if got := resolveOn(t, m.Addr()+"/library/busybox:latest"); got != idx.Descriptor.Digest.String() {
		t.Errorf("mirror serves %s, want the recipe's index %s", got, idx.Descriptor.Digest)
	}
}

// binNames lists /bin of img, each entry a hard link to the binary (or the
// binary itself).
func binNames(t *testing.T, img *ociimage.Image) []string {
	t.Helper()
	files, err := img.Files()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var content string // the name that stores the binary
	for _, f := range files {
		dir, name := path.Split(f.Path)
		if dir != "/bin/" {
			continue
		}
		switch {
		case f.Typeflag == tar.TypeReg && content == "":
			content = strings.TrimPrefix(f.Path, "/")
		case f.Typeflag == tar.TypeLink && f.Linkname == content:
		default:
			t.Errorf("%s: %s is not a hard link of the one binary (%+v)", img.Platform().Architecture, f.Path, f)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// TestRecipeBusyboxRuns runs the image's binary inside its own tree (chroot,
// as root): natively, and for the other architecture when binfmt_misc runs
// it. It checks what the official image gives the suites written for it:
// every applet installed, users of /etc/passwd, adduser, chown by name, UTC.
func TestRecipeBusyboxRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles busybox for two architectures (cached per machine)")
	}
	if os.Geteuid() != 0 {
		t.Skip("runs busybox in a chroot: needs root")
	}
	_, idx := busyboxIndex(t, recipeCacheDir(t), "")
	for _, img := range idx.Images {
		arch := img.Platform().Architecture
		t.Run(arch, func(t *testing.T) {
			if arch != hostDebArch() {
				if _, err := qemuFor(arch); err != nil {
					t.Skipf("%v (the ELF machine of /bin/busybox is checked by TestRecipeBusybox)", err)
				}
			}
			root := filepath.Join(t.TempDir(), "rootfs")
			unpackLayer(t, img.Layers()[0], root)
			got := strings.Fields(chrootRun(t, root, "/bin/busybox --list"))
			slices.Sort(got)
			if want := without(binNames(t, img), "busybox"); !slices.Equal(got, want) {
				t.Errorf("busybox --list:\n%q\n/bin of the image:\n%q", got, want)
			}
			for script, want := range map[string]string{
				"id daemon":                  "uid=1(daemon) gid=1(daemon) groups=1(daemon)",
				"id nobody":                  "uid=65534(nobody) gid=65534(nobody) groups=65534(nobody)",
				"adduser -D user && id user": "uid=1000(user) gid=1000(user) groups=1000(user)",
				"addgroup -S svc && grep svc: /etc/group":                              "svc:x:101:",
				"touch /tmp/f && chown daemon:daemon /tmp/f && stat -c '%U %G' /tmp/f": "daemon daemon",
				"date +%Z":                     "UTC",
				"/usr/bin/env sh -c 'echo $0'": "sh",
			} {
				if got := strings.TrimSpace(chrootRun(t, root, script)); got != want {
					t.Errorf("%s: %q, want %q", script, got, want)
				}
			}
		})
	}
}

func without(s []string, x string) []string {
	return slices.DeleteFunc(slices.Clone(s), func(v string) bool { return v == x })
}

// chrootRun runs script with the tree's /bin/sh, chrooted into root.
func chrootRun(t *testing.T, root, script string) string {
	t.Helper()
	cmd := exec.Command("chroot", root, "/bin/sh", "-ec", script)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("chroot %s /bin/sh -ec %q: %v\n%s", root, script, err, out)
	}
	return string(out)
}

// unpackLayer writes a layer's tree under dir with its modes and owners.
func unpackLayer(t *testing.T, l ociimage.Layer, dir string) {
	t.Helper()
	rc, err := l.Tar()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(path.Clean("/"+hdr.Name)))
		mode := hdr.FileInfo().Mode()
		switch hdr.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(p, 0o755)
		case tar.TypeReg:
			var b []byte
			if b, err = io.ReadAll(tr); err == nil {
				err = os.WriteFile(p, b, 0o600)
			}
		case tar.TypeSymlink:
			err = os.Symlink(hdr.Linkname, p)
		case tar.TypeLink:
			err = os.Link(filepath.Join(dir, filepath.FromSlash(path.Clean("/"+hdr.Linkname))), p)
		default:
			err = fmt.Errorf("unexpected entry type %c", hdr.Typeflag)
		}
		if err == nil {
			err = os.Lchown(p, hdr.Uid, hdr.Gid)
		}
		if err == nil && hdr.Typeflag != tar.TypeSymlink && hdr.Typeflag != tar.TypeLink {
			err = os.Chmod(p, mode&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
		}
		if err != nil {
			t.Fatalf("unpack %s: %v", hdr.Name, err)
		}
	}
}

// TestRecipeBusyboxReproducible builds recipe:busybox twice from nothing, in
// two fresh mirror directories with fresh build caches, and wants the same
// digests: every layer,
// manifest and the index. Each build compiles busybox for both
// architectures (many minutes), so it runs when asked:
// MATRIXBOX_TEST_RECIPE_REBUILD=1 (make recipe-reproducible). The durations it logs are the cold
// build times in bench/RESULTS.md.
func TestRecipeBusyboxReproducible(t *testing.T) {
	if os.Getenv("MATRIXBOX_TEST_RECIPE_REBUILD") != "1" {
		t.Skip("set MATRIXBOX_TEST_RECIPE_REBUILD=1 to compile recipe:busybox twice from nothing")
	}
	var builds []*ociimage.IndexImage
	for i := range 2 {
		start := time.Now()
		_, idx := busyboxIndex(t, t.TempDir(), t.TempDir())
		t.Logf("build %d: index %s in %s", i+1, idx.Descriptor.Digest, time.Since(start).Round(time.Second))
		builds = append(builds, idx)
	}
	a, b := builds[0], builds[1]
	for i, img := range a.Images {
		other := b.Images[i]
		for j, l := range img.Manifest.Layers {
			t.Logf("%s layer %d: %s", img.Platform().Architecture, j, l.Digest)
		}
		if !slices.Equal(layerDigests(img), layerDigests(other)) || img.Descriptor.Digest != other.Descriptor.Digest {
			t.Errorf("%s: manifest %s with layers %v, then %s with %v", img.Platform().Architecture,
				img.Descriptor.Digest, layerDigests(img), other.Descriptor.Digest, layerDigests(other))
		}
	}
	if a.Descriptor.Digest != b.Descriptor.Digest {
		t.Errorf("index %s, then %s", a.Descriptor.Digest, b.Descriptor.Digest)
	}
}

func layerDigests(img *ociimage.Image) []string {
	var out []string
	for _, l := range img.Manifest.Layers {
		out = append(out, l.Digest.String())
	}
	return out
}
