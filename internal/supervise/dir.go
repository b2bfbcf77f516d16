package supervise

import (
	"fmt"
	"os"
	"path/filepath"
)

// dirPrefix starts the name of every directory matrixbox makes; the owner
// follows, its pid and start time (<pid>.<start>), so that a later run
// tells the leftovers of a dead test process, and never takes a process
// that got the same pid since for it.
const dirPrefix = "mbx-"

// MaxSocketDir leaves room under the sandbox directory for a socket path such
// as "b/exec/containerd/containerd.sock.ttrpc" within the 108 bytes of
// sun_path.
const MaxSocketDir = 60

// maxNameLen is the longest name MkdirShort makes: dirPrefix, a pid, a dot,
// a start time and a random number of up to 10 digits each.
const maxNameLen = len(dirPrefix) + 7 + 1 + 10 + 1 + 10

// MkdirShort makes a private directory whose path is short enough for unix
// sockets, named dirPrefix<pid>.<start>-<random>. TMPDIR is used when it is
// short enough, else /tmp.
func MkdirShort() (string, error) {
	root := ShortTempRoot()
	dir, err := os.MkdirTemp(root, dirPrefix+selfOwner().String()+"-")
	if err != nil {
		return "", fmt.Errorf("make sandbox dir under %s: %w", root, err)
	}
	return dir, nil
}

// ShortTempRoot is where sandbox directories are made: TMPDIR when a
// sandbox's unix sockets fit under it, else /tmp.
func ShortTempRoot() string {
	root := os.TempDir()
	if len(root)+1+maxNameLen > MaxSocketDir {
		root = "/tmp"
	}
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	return root
}

func RemoveDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if _, err := os.Lstat(dir); err == nil {
		return fmt.Errorf("%s still exists after removal", dir)
	}
	return nil
}
