package ociimage

import (
	"archive/tar"
	"io/fs"
	"syscall"
)

type inode struct{ dev, ino uint64 }

// hardlinked reports the inode of a file that has more than one name.
func hardlinked(fi fs.FileInfo) (inode, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Nlink < 2 {
		return inode{}, false
	}
	return inode{uint64(st.Dev), st.Ino}, true
}

// owner copies the numeric owner; names are dropped because the host's
// /etc/passwd says nothing about the image's.
func owner(fi fs.FileInfo, hdr *tar.Header) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		hdr.Uid, hdr.Gid = int(st.Uid), int(st.Gid)
	}
	hdr.Uname, hdr.Gname = "", ""
}
