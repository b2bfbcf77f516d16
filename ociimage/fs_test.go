package ociimage

import (
	"archive/tar"
	"io/fs"
	"strings"
	"testing"
)

// TestWhiteouts builds three layers by hand, whiteouts and an opaque
// directory included, and checks the merged view path by path.
func TestWhiteouts(t *testing.T) {
	base := mustLayer(t, map[string]File{
		"/etc/keep":           {Data: []byte("keep")},
		"/etc/gone":           {Data: []byte("gone")},
		"/usr/lib/os-release": {Data: []byte("ID=matrixbox\n")},
		"/etc/os-release":     {Link: "../usr/lib/os-release"},
		"/opt/old/a":          {Data: []byte("a")},
		"/opt/old/sub/b":      {Data: []byte("b")},
		"/var/tree/x":         {Data: []byte("x")},
		"/bin/tool":           {Data: []byte("v1"), Mode: 0o755},
	})
	upper := mustLayer(t, map[string]File{
		"/etc/.wh.gone":         {},
		"/opt/old/.wh..wh..opq": {},
		"/opt/old/new":          {Data: []byte("new")},
		"/var/.wh.tree":         {},
		"/bin/tool":             {Data: []byte("v2"), Mode: 0o750},
	})
	top := mustLayer(t, map[string]File{
		"/etc/gone": {Data: []byte("back")}, // recreated above its whiteout
	})
	img, err := Build(Config{Platform: mustPlatform(t, "linux/amd64")}, base, upper, top)
	if err != nil {
		t.Fatal(err)
	}
	Check(t, img,
		LayerCount(3),
		HasFile("/etc/keep", "keep"),
		HasFile("/etc/gone", "back"),
		HasFile("/etc/os-release", "ID=matrixbox\n"),
		FileContains("/etc/os-release", "matrixbox"),
		NoFile("/opt/old/a"),
		NoFile("/opt/old/sub/b"),
		NoFile("/opt/old/sub"),
		HasFile("/opt/old/new", "new"),
		NoFile("/var/tree"),
		NoFile("/var/tree/x"),
		HasFile("/bin/tool", "v2"),
		FileMode("/bin/tool", 0o750),
		FileMode("/etc/os-release", fs.ModeSymlink|0o777),
	)
	files, err := img.Files()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		if f.Typeflag != tar.TypeDir {
			names = append(names, f.Path)
		}
		if strings.Contains(f.Path, ".wh.") {
			t.Errorf("whiteout %s shows in the merged view", f.Path)
		}
	}
	want := "/bin/tool /etc/gone /etc/keep /etc/os-release /opt/old/new /usr/lib/os-release"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("merged files:\n got %s\nwant %s", got, want)
	}
}

// TestCheckReportsEveryMismatch: one Check call with four wrong assertions
// gives four messages, each naming its assertion.
func TestCheckReportsEveryMismatch(t *testing.T) {
	img, err := Build(Config{Platform: mustPlatform(t, "linux/arm64"), Labels: map[string]string{"a": "1"}},
		mustLayer(t, map[string]File{"/f": {Data: []byte("x")}}))
	if err != nil {
		t.Fatal(err)
	}
	err = Verify(img, LayerCount(3), Label("a", "2"), Platform("linux/amd64"), HasFile("/f", "y"), HasFile("/f", "x"), Platforms("linux/arm64"))
	if err == nil {
		t.Fatal("Verify passed with five wrong assertions")
	}
	lines := strings.Split(err.Error(), "\n")
	for _, want := range []string{"LayerCount(3): has 1 layers", `Label(a=2): label is "1"`, "Platform(linux/amd64): is linux/arm64", `HasFile(/f): holds "x", want "y"`, "Platforms(linux/arm64): applies to an index"} {
		found := false
		for _, l := range lines {
			found = found || strings.Contains(l, want)
		}
		if !found {
			t.Errorf("no %q in:\n%s", want, err)
		}
	}
	if len(lines) != 5 {
		t.Errorf("got %d messages, want 5:\n%s", len(lines), err)
	}
	if err := Verify(img, LayerCount(1), Label("a", "1"), Platform("linux/aarch64"), HasFile("/f", "x")); err != nil {
		t.Errorf("true assertions failed: %v", err)
	}
}

func TestSquash(t *testing.T) {
	lower := mustLayer(t, map[string]File{"/a": {Data: []byte("a1")}, "/b": {Data: []byte("b")}, "/d/x": {Data: []byte("x")}})
	upper := mustLayer(t, map[string]File{"/a": {Data: []byte("a2")}, "/.wh.b": {}, "/d/.wh..wh..opq": {}, "/d/y": {Data: []byte("y")}})
	img, err := Build(Config{Platform: mustPlatform(t, "linux/amd64")}, lower, upper)
	if err != nil {
		t.Fatal(err)
	}
	flat, err := img.Squash()
	if err != nil {
		t.Fatal(err)
	}
	one, err := Build(Config{Platform: mustPlatform(t, "linux/amd64")}, flat)
	if err != nil {
		t.Fatal(err)
	}
	Check(t, one, LayerCount(1), HasFile("/a", "a2"), NoFile("/b"), NoFile("/d/x"), HasFile("/d/y", "y"))
	before, _ := img.Files()
	after, _ := one.Files()
	if len(before) != len(after) {
		t.Errorf("squashed view has %d paths, layered %d", len(after), len(before))
	}
}
