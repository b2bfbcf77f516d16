package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
)

// DirPrefix starts the name of every directory matrixbox makes; the owner's
// pid follows, so a later run can tell the leftovers of a dead one.
const DirPrefix = "mbx-"

// maxSocketDir leaves room under the sandbox directory for a socket path such
// as "b/containerd/containerd.sock.ttrpc" within the 108 bytes of sun_path.
const maxSocketDir = 48

// MkdirShort makes a private directory whose path is short enough for unix
// sockets, named DirPrefix<pid>-<random>. TMPDIR is used when it is short
// enough, else /tmp.
func MkdirShort() (string, error) {
	root := ShortTempRoot()
	dir, err := os.MkdirTemp(root, fmt.Sprintf("%s%d-", DirPrefix, os.Getpid()))
	if err != nil {
		return "", fmt.Errorf("make sandbox dir under %s: %w", root, err)
	}
	return dir, nil
}

// ShortTempRoot is where MkdirShort makes directories.
func ShortTempRoot() string {
	root := os.TempDir()
	if len(root)+len(DirPrefix)+20 > maxSocketDir {
		root = "/tmp"
	}
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	return root
}

func removeDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if _, err := os.Lstat(dir); err == nil {
		return fmt.Errorf("%s still exists after removal", dir)
	}
	return nil
}
