package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
)

// DirPrefix starts the name of every directory matrixbox makes; the owner
// follows, its pid and start time (<pid>.<start>), so that a later run
// tells the leftovers of a dead test process, and never takes a process
// that got the same pid since for it.
const DirPrefix = "mbx-"

// maxSocketDir leaves room under the sandbox directory for a socket path such
// as "b/exec/containerd/containerd.sock.ttrpc" within the 108 bytes of
// sun_path.
const maxSocketDir = 60

// maxNameLen is the longest name MkdirShort makes: DirPrefix, a pid, a dot,
// a start time and a random number of up to 10 digits each.
const maxNameLen = len(DirPrefix) + 7 + 1 + 10 + 1 + 10

// MkdirShort makes a private directory whose path is short enough for unix
// sockets, named DirPrefix<pid>.<start>-<random>. TMPDIR is used when it is
// short enough, else /tmp.
func MkdirShort() (string, error) {
	root := ShortTempRoot()
	dir, err := os.MkdirTemp(root, DirPrefix+selfOwner().String()+"-")
	if err != nil {
		return "", fmt.Errorf("make sandbox dir under %s: %w", root, err)
	}
	return dir, nil
}

// ShortTempRoot is where MkdirShort makes directories.
func ShortTempRoot() string {
	root := os.TempDir()
	if len(root)+1+maxNameLen > maxSocketDir {
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
