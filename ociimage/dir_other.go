//go:build !linux

package ociimage

import (
	"archive/tar"
	"io/fs"
)

type inode struct{ dev, ino uint64 }

// hardlinked is Linux-only; elsewhere every file is stored in full.
func hardlinked(fs.FileInfo) (inode, bool) { return inode{}, false }

func owner(_ fs.FileInfo, hdr *tar.Header) { hdr.Uname, hdr.Gname = "", "" }
