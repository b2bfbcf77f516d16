package ociimage

import (
	"archive/tar"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// LayerFromDir builds a layer from a root filesystem directory: modes,
// owners, symbolic and hard links are kept; device nodes, FIFOs and sockets
// are skipped without error (debootstrap leaves a few in /dev). Times are
// set to the epoch so that the same tree gives the same digest.
func LayerFromDir(dir string) (Layer, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return Layer{}, fmt.Errorf("layer from dir: %w", err)
	}
	if !st.IsDir() {
		return Layer{}, fmt.Errorf("layer from dir: %s is not a directory", dir)
	}
	w := newLayerWriter()
	seen := map[inode]string{} // first path of each multiply-linked file
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		name := filepath.ToSlash(rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		var link string
		switch {
		case fi.Mode().IsRegular(), fi.IsDir():
		case fi.Mode()&fs.ModeSymlink != 0:
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		default:
			return nil
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		hdr.Name, hdr.ModTime, hdr.Format = name, epoch, tar.FormatUnknown
		hdr.Mode &= 0o7777
		owner(fi, hdr)
		if fi.Mode().IsRegular() {
			if ino, ok := hardlinked(fi); ok {
				if first, ok := seen[ino]; ok {
					hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
					return w.add(hdr, nil)
				}
				seen[ino] = name
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			return w.add(hdr, f)
		}
		return w.add(hdr, nil)
	})
	if err != nil {
		return Layer{}, fmt.Errorf("layer from dir %s: %w", dir, err)
	}
	return w.finish()
}
