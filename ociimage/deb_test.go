package ociimage

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// makeDeb writes a .deb (ar: debian-binary, control.tar.gz, data.tar.<comp>)
// holding files, the way dpkg-deb lays one out.
func makeDeb(t testing.TB, dir, name, comp string, files map[string]string) string {
	t.Helper()
	var data bytes.Buffer
	tw := tar.NewWriter(&data)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "./", Mode: 0o755})
	for _, n := range names {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "./" + n, Mode: 0o755, Size: int64(len(files[n]))})
		tw.Write([]byte(files[n]))
	}
	tw.Close()
	var packed bytes.Buffer
	var w io.WriteCloser
	switch comp {
	case "gz":
		w = gzip.NewWriter(&packed)
	case "xz":
		xw, err := xz.NewWriter(&packed)
		if err != nil {
			t.Fatal(err)
		}
		w = xw
	case "zst":
		zw, err := zstd.NewWriter(&packed)
		if err != nil {
			t.Fatal(err)
		}
		w = zw
	case "":
		w = nopWriteCloser{&packed}
	}
	w.Write(data.Bytes())
	w.Close()
	member := "data.tar"
	if comp != "" {
		member += "." + comp
	}
	var ar bytes.Buffer
	ar.WriteString("!<arch>\n")
	add := func(name string, body []byte) {
		fmt.Fprintf(&ar, "%-16s%-12d%-6d%-6d%-8s%-10d`\n", name, 0, 0, 0, "100644", len(body))
		ar.Write(body)
		if len(body)%2 == 1 {
			ar.WriteByte('\n')
		}
	}
	add("debian-binary", []byte("2.0\n"))
	add("control.tar.gz", []byte{0x1f, 0x8b}) // never read
	add(member, packed.Bytes())
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, ar.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// TestLayerFromDebsCompressions: data.tar in each compression, two packages
// in one layer, the later one's file winning.
func TestLayerFromDebsCompressions(t *testing.T) {
	dir := t.TempDir()
	var debs []string
	for _, comp := range []string{"xz", "zst", "gz", ""} {
		debs = append(debs, makeDeb(t, dir, "p-"+comp+".deb", comp, map[string]string{
			"usr/bin/" + firstNonEmpty(comp, "plain"): "bin-" + comp,
			"etc/shared": "from-" + comp,
		}))
	}
	l, err := LayerFromDebs(debs...)
	if err != nil {
		t.Fatal(err)
	}
	img, err := Build(Config{Platform: mustPlatform(t, "linux/amd64")}, l)
	if err != nil {
		t.Fatal(err)
	}
	Check(t, img, LayerCount(1),
		HasFile("/usr/bin/xz", "bin-xz"), HasFile("/usr/bin/zst", "bin-zst"),
		HasFile("/usr/bin/gz", "bin-gz"), HasFile("/usr/bin/plain", "bin-"),
		HasFile("/etc/shared", "from-"), FileMode("/usr/bin/xz", 0o755))
}

func TestLayerFromDebsBadInput(t *testing.T) {
	dir := t.TempDir()
	notAr := filepath.Join(dir, "junk.deb")
	os.WriteFile(notAr, []byte("this is not a package"), 0o644)
	noData := filepath.Join(dir, "nodata.deb")
	os.WriteFile(noData, []byte("!<arch>\n"), 0o644)
	for _, tc := range []struct{ deb, want string }{
		{filepath.Join(dir, "missing.deb"), "missing.deb"},
		{notAr, "junk.deb: not an ar archive"},
		{noData, "nodata.deb: no data.tar member"},
	} {
		_, err := LayerFromDebs(tc.deb)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LayerFromDebs(%s) = %v, want an error with %q", filepath.Base(tc.deb), err, tc.want)
		}
	}
	if _, err := LayerFromDebs(); err == nil {
		t.Error("LayerFromDebs() with no package passed")
	}
}

// aptDownload fetches real packages of this machine's release, skipping
// the test with the package's name when apt cannot.
func aptDownload(t testing.TB, pkgs ...string) []string {
	t.Helper()
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skipf("apt-get not found: cannot download %s", strings.Join(pkgs, " "))
	}
	dir := t.TempDir()
	cmd := exec.Command("apt-get", append([]string{"download", "-q"}, pkgs...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("apt-get download %s failed (%v): %s", strings.Join(pkgs, " "), err, out)
	}
	debs, _ := filepath.Glob(filepath.Join(dir, "*.deb"))
	if len(debs) != len(pkgs) {
		t.Skipf("apt-get download %s gave %d files", strings.Join(pkgs, " "), len(debs))
	}
	sort.Strings(debs)
	return debs
}

// TestLayerFromRealDeb unpacks Debian's busybox-static and compares the
// layer with what dpkg-deb itself lists.
func TestLayerFromRealDeb(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: downloads busybox-static")
	}
	debs := aptDownload(t, "busybox-static")
	l, err := LayerFromDebs(debs...)
	if err != nil {
		t.Fatal(err)
	}
	img, err := Build(Config{Platform: mustPlatform(t, "linux/amd64")}, l)
	if err != nil {
		t.Fatal(err)
	}
	busybox, err := img.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(busybox, []byte("\x7fELF")) || len(busybox) < 100000 {
		t.Errorf("/bin/busybox: %d bytes, not an ELF binary", len(busybox))
	}
	Check(t, img, FileMode("/bin/busybox", 0o755), LayerMediaType("application/vnd.oci.image.layer.v1.tar+gzip"))
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Log("dpkg-deb not found: no cross-check")
		return
	}
	out, err := exec.Command("dpkg-deb", "--fsys-tarfile", debs[0]).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	tr := tar.NewReader(bytes.NewReader(out))
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		if h.Typeflag == tar.TypeReg {
			want["/"+strings.TrimPrefix(h.Name, "./")] = h.Size
		}
	}
	files, err := img.Files()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, f := range files {
		if f.Typeflag == tar.TypeReg {
			got[f.Path] = f.Size
		}
	}
	if len(want) == 0 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("regular files differ from dpkg-deb's:\n got %v\nwant %v", got, want)
	}
}
