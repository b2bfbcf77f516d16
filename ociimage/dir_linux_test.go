package ociimage

import (
	"archive/tar"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestLayerFromDir(t *testing.T) {
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "dev"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "tmp"), 0o755))
	must(os.Chmod(filepath.Join(root, "tmp"), fs.ModeSticky|0o777))
	must(os.WriteFile(filepath.Join(root, "usr/bin/tool"), []byte("tool"), 0o755))
	must(os.Link(filepath.Join(root, "usr/bin/tool"), filepath.Join(root, "usr/bin/alias")))
	must(os.Symlink("usr/bin", filepath.Join(root, "bin")))
	must(syscall.Mkfifo(filepath.Join(root, "dev/fifo"), 0o600))
	must(os.Chown(filepath.Join(root, "usr/bin/tool"), 1000, 1001))
	must(os.Chmod(filepath.Join(root, "usr/bin/tool"), fs.ModeSetuid|0o755)) // after chown, which clears it

	l, err := LayerFromDir(root)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LayerFromDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if l.Digest != again.Digest {
		t.Errorf("same tree, two digests: %s, %s", l.Digest, again.Digest)
	}
	img, err := Build(Config{Platform: mustPlatform(t, "linux/amd64")}, l)
	if err != nil {
		t.Fatal(err)
	}
	Check(t, img,
		HasFile("/bin/tool", "tool"), // through the symlink
		HasFile("/usr/bin/alias", "tool"),
		FileMode("/usr/bin/tool", 0o755|fs.ModeSetuid),
		FileMode("/tmp", fs.ModeDir|0o777|fs.ModeSticky),
		FileMode("/bin", fs.ModeSymlink|0o777),
		NoFile("/dev/fifo"),
	)
	tool, err := img.Stat("/usr/bin/tool")
	if err != nil || tool.UID != 1000 || tool.GID != 1001 {
		t.Errorf("owner of /usr/bin/tool: %+v %v, want 1000:1001", tool, err)
	}
	// The walk meets alias first, so tool is stored as a link to it.
	if tool.Typeflag != tar.TypeLink || tool.Linkname != "usr/bin/alias" {
		t.Errorf("/usr/bin/tool = %+v; want a hard link to usr/bin/alias", tool)
	}
	if _, err := LayerFromDir(filepath.Join(root, "usr/bin/tool")); err == nil {
		t.Error("LayerFromDir of a file passed")
	}
}
