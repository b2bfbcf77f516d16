package mirror

import (
	"io/fs"
	"syscall"
)

// fileIDOf reads the identity of fi's file. ok is false when the system
// does not say (then no identity is ever trusted and every check hashes).
func fileIDOf(fi fs.FileInfo) (id fileID, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{
		Size:  fi.Size(),
		Dev:   uint64(st.Dev),
		Ino:   uint64(st.Ino),
		Mtime: st.Mtim.Nano(),
		Ctime: st.Ctim.Nano(),
	}, true
}
