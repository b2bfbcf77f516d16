package mirror

import (
	"io/fs"
	"syscall"
)

// readSmall reads the start of the file at path into buf: one open, one
// read, one close (os.ReadFile also stats the file and registers it with
// the poller, which doubles the cost of the identity read that a warm hit
// makes per blob).
func readSmall(path string, buf []byte) (int, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	n, err := syscall.Read(fd, buf)
	if cerr := syscall.Close(fd); err == nil {
		err = cerr
	}
	return n, err
}

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
