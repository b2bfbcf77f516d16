package ociimage

import (
	"archive/tar"
	"io/fs"
	"strings"
	"testing"
)

// TestLayerFromFilesHardlinks: a file and its other names make one content
// entry under the least name and hard links to it, in sorted order, as tar
// writes a directory's hard links.
func TestLayerFromFilesHardlinks(t *testing.T) {
	files := map[string]File{
		"/bin/busybox": {Data: []byte("ELF"), Mode: 0o755},
		"/bin/[":       {Hardlink: "/bin/busybox"},
		"/bin/sh":      {Hardlink: "bin/busybox"},
		"/etc/passwd":  {Data: []byte("root:x:0:0::/root:/bin/sh\n")},
	}
	l := mustLayer(t, files)
	again := mustLayer(t, files)
	if l.Digest != again.Digest {
		t.Errorf("same files, two digests: %s, %s", l.Digest, again.Digest)
	}
	img, err := Build(Config{Platform: mustPlatform(t, "linux/amd64")}, l)
	if err != nil {
		t.Fatal(err)
	}
	Check(t, img,
		HasFile("/bin/[", "ELF"), HasFile("/bin/busybox", "ELF"), HasFile("/bin/sh", "ELF"),
		FileMode("/bin/[", 0o755))
	want := map[string]string{"bin/busybox": "bin/[", "bin/sh": "bin/["}
	for p, to := range want {
		f, err := img.Stat("/" + p)
		if err != nil || f.Typeflag != tar.TypeLink || f.Linkname != to {
			t.Errorf("%s = %+v, %v; want a hard link to %s", p, f, err, to)
		}
	}
	if f, err := img.Stat("/bin/["); err != nil || f.Typeflag != tar.TypeReg {
		t.Errorf("/bin/[ = %+v, %v; want the regular file holding the content", f, err)
	}

	for name, bad := range map[string]map[string]File{
		"not in the layer": {"/bin/sh": {Hardlink: "/bin/busybox"}},
		"not a regular file": {
			"/bin":    {Mode: fs.ModeDir},
			"/bin/sh": {Hardlink: "/bin"},
		},
		"climbs out": {"/bin/sh": {Hardlink: "../x"}},
	} {
		_, err := LayerFromFiles(bad)
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "bin/sh") {
			t.Errorf("LayerFromFiles(%v) = %v; want an error naming bin/sh and saying %q", bad, err, name)
		}
	}
}
