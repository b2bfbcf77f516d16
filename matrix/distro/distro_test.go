package distro

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/matrix"
)

func TestAxis(t *testing.T) {
	a, err := Axis("debian-11", "debian-12", "debian-13")
	if err != nil {
		t.Fatal(err)
	}
	cells, err := matrix.Expand(a)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ cell, codename, glibc, qemu string }{
		{"distro=debian-11", "bullseye", "2.31", "5.2"},
		{"distro=debian-12", "bookworm", "2.36", "7.2"},
		{"distro=debian-13", "trixie", "2.41", "10.0"},
	}
	for i, c := range cells {
		d := From(c)
		if c.Name() != want[i].cell || d.Codename != want[i].codename || d.Glibc.String() != want[i].glibc || d.QemuImg != want[i].qemu {
			t.Errorf("cell %s: %+v", c.Name(), d)
		}
	}
	if _, err := Axis("debian-12", "debian-99"); err == nil || !strings.Contains(err.Error(), `"debian-99" is not in the catalog`) {
		t.Errorf("unknown id: %v", err)
	}
	if _, err := Axis("debian-12", "debian-12"); err == nil || !strings.Contains(err.Error(), `"debian-12" is given twice`) {
		t.Errorf("repeated id: %v", err)
	}
	if _, err := Axis(); err == nil {
		t.Error("empty axis accepted")
	}
	if !From(matrix.Cell{}).IsZero() {
		t.Error("From(no axis) is not zero")
	}
}

func TestCatalog(t *testing.T) {
	for _, d := range All() {
		if d.ID == "" || d.Name == "" || d.Version == "" || d.Image == "" || d.Glibc.IsZero() || d.Manager == "" {
			t.Errorf("incomplete entry %+v", d)
		}
		if err := (matrix.Axis{Name: AxisName, Values: []matrix.Value{{Name: d.ID}}}).Validate(); err != nil {
			t.Error(err)
		}
		file := d.InstallFile("hello.pkg")
		if d.Format == Deb && file[len(file)-1] != "./hello.pkg" {
			t.Errorf("%s: apt-get would read a bare file name as a package: %q", d.ID, file)
		}
	}
	for _, id := range []string{"ubuntu-22.04", "ubuntu-24.04", "fedora-42", "rocky-9", "rocky-10", "almalinux-9", "azurelinux-3.0"} {
		if _, err := Lookup(id); err != nil {
			t.Error(err)
		}
	}
	r9, _ := Lookup("rocky-9")
	if got := strings.Join(r9.InstallFile("/tmp/x.rpm"), " "); got != "dnf install -y /tmp/x.rpm" {
		t.Errorf("rocky-9 install file: %s", got)
	}
}

// treeGlibc reads the glibc version of a Debian tree from the banner its
// libc.so.6 carries ("... stable release version 2.31."): version
// definitions are no guide, as a release that adds no symbol (2.31) defines
// no GLIBC_ version of its own.
func treeGlibc(t *testing.T, root string) GlibcVersion {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(root, "lib/*-linux-gnu/libc.so.6"))
	if len(matches) == 0 {
		matches, _ = filepath.Glob(filepath.Join(root, "usr/lib/*-linux-gnu/libc.so.6"))
	}
	if len(matches) == 0 {
		t.Skipf("no libc.so.6 under %s", root)
	}
	b, err := os.ReadFile(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`release version (\d+\.\d+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s has no release banner", matches[0])
	}
	v, err := ParseGlibcVersion(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestCatalogAgreesWithRealTrees checks the Debian entries against the real
// systems at hand: this machine, and debootstrapped trees when present.
func TestCatalogAgreesWithRealTrees(t *testing.T) {
	trees := map[string]string{}
	if b, err := os.ReadFile("/etc/debian_version"); err == nil {
		major, _, _ := strings.Cut(strings.TrimSpace(string(b)), ".")
		trees["debian-"+major] = "/"
	}
	base := os.Getenv("MATRIXBOX_DEBIAN_TREES")
	if base == "" {
		base = "/var/tmp/matrixbox-axes"
	}
	for id, dir := range map[string]string{"debian-11": "bullseye", "debian-13": "trixie"} {
		if _, err := os.Stat(filepath.Join(base, dir, "etc/debian_version")); err == nil {
			trees[id] = filepath.Join(base, dir)
		}
	}
	if len(trees) == 0 {
		t.Skip("no Debian tree at hand (this machine is not Debian; no debootstrap trees under " + base + ")")
	}
	for id, root := range trees {
		d, err := Lookup(id)
		if err != nil {
			t.Errorf("this machine is %s, which the catalog lacks", id)
			continue
		}
		if got := treeGlibc(t, root); got.Compare(d.Glibc) != 0 {
			t.Errorf("%s: the catalog says glibc %s, %s has %s", id, d.Glibc, root, got)
		}
		qemu := filepath.Join(root, "usr/bin/qemu-img")
		if _, err := os.Stat(qemu); err != nil || os.Geteuid() != 0 {
			continue
		}
		out, err := exec.Command("chroot", root, "qemu-img", "--version").Output()
		if err != nil {
			t.Errorf("%s: qemu-img --version: %v", id, err)
			continue
		}
		if !strings.HasPrefix(string(out), "qemu-img version "+d.QemuImg+".") {
			t.Errorf("%s: the catalog says qemu-img %s, %s has %q", id, d.QemuImg, root, out)
		}
		t.Logf("%s: glibc %s, %s", id, d.Glibc, strings.SplitN(string(out), "\n", 2)[0])
	}
}

func TestImageRefRecipeDecode(t *testing.T) {
	d12, _ := Lookup("debian-12")
	if got := d12.ImageRef(); got != "docker.io/library/debian:bookworm" {
		t.Errorf("ImageRef = %q", got)
	}
	if got := d12.Source("qemu-utils"); got != "recipe:debian:12?packages=qemu-utils" {
		t.Errorf("Source = %q", got)
	}
	if got := d12.Recipe("a", "b"); got != "recipe:debian:12?packages=a,b" {
		t.Errorf("Recipe = %q", got)
	}
	if got := d12.Recipe(); got != "recipe:debian:12" {
		t.Errorf("Recipe() = %q", got)
	}
	u, _ := Lookup("ubuntu-24.04")
	if u.Recipe("x") != "" || u.Source("x") != "docker.io/library/ubuntu:24.04" {
		t.Errorf("ubuntu: Recipe %q Source %q", u.Recipe("x"), u.Source("x"))
	}
	v, err := DecodeValue("debian-13")
	if err != nil || v.Name != "debian-13" || v.V.(Distro).QemuImg != "10.0" {
		t.Errorf("DecodeValue(debian-13) = %+v, %v", v, err)
	}
	if _, err := DecodeValue("debian-10"); err == nil || !strings.Contains(err.Error(), `"debian-10"`) {
		t.Errorf("DecodeValue(debian-10) error = %v, want one naming it", err)
	}
}
