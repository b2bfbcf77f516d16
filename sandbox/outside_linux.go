package sandbox

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// What a sandbox's daemons keep outside its directory.
//
// A containerd shim listens on a socket under /run/containerd/s, a path
// compiled into containerd, and runc keeps a container's state under
// /run/containerd/runc/<namespace>/<id>, its default root. A shim that
// exits normally removes both; one killed with its sandbox leaves them. The
// sandbox's own containerd state names them: each task's bundle directory
// (…/io.containerd.runtime.v2.task/<namespace>/<id>) holds the shim's
// address (bootstrap.json, or address for containerd 1.x).

const (
	shimSocketDir = "/run/containerd/s/"
	runcStateRoot = "/run/containerd/runc"
	taskStateDir  = "io.containerd.runtime.v2.task"
)

// skipUnder are directories under which no task state lives and which may
// hold many files: image layers, snapshots, container root filesystems.
var skipUnder = map[string]bool{
	"rootfs": true, "snapshots": true, "content": true, "overlay2": true, "image": true,
	"io.containerd.snapshotter.v1.overlayfs": true, "io.containerd.content.v1.content": true,
	"io.containerd.snapshotter.v1.native": true, "runc-overlayfs": true, "t": true,
}

// removeOutside removes the shim sockets and runc state that the
// containerds under dir left outside it, when they belong to group (the
// runc state names its cgroup; a socket is the sandbox's own by its
// address). It returns a line per thing removed.
func removeOutside(dir, group string) []string {
	var removed []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if skipUnder[d.Name()] {
			return fs.SkipDir
		}
		if d.Name() != taskStateDir {
			return nil
		}
		bundles, _ := filepath.Glob(filepath.Join(p, "*", "*"))
		for _, b := range bundles {
			if sock := shimSocket(b); sock != "" {
				if os.Remove(sock) == nil {
					removed = append(removed, "shim socket "+sock)
				}
			}
			ns, id := filepath.Base(filepath.Dir(b)), filepath.Base(b)
			state := filepath.Join(runcStateRoot, ns, id)
			if group != "" && runcStateOf(state, group) && os.RemoveAll(state) == nil {
				removed = append(removed, "runc state "+state)
			}
		}
		return fs.SkipDir
	})
	return removed
}

// shimSocket reads the shim's socket path from a task's bundle directory;
// "" when it names none under shimSocketDir.
func shimSocket(bundle string) string {
	var addr string
	if b, err := os.ReadFile(filepath.Join(bundle, "bootstrap.json")); err == nil {
		var bs struct {
			Address string `json:"address"`
		}
		if json.Unmarshal(b, &bs) == nil {
			addr = bs.Address
		}
	} else if b, err := os.ReadFile(filepath.Join(bundle, "address")); err == nil {
		addr = strings.TrimSpace(string(b))
	}
	path := strings.TrimPrefix(addr, "unix://")
	if !strings.HasPrefix(path, shimSocketDir) || strings.Contains(path[len(shimSocketDir):], "/") {
		return ""
	}
	return path
}

// runcStateOf reports whether the runc state at dir is that of a container
// in group: only then is it the sandbox's to remove, for an id can be
// reused by a container of another sandbox.
func runcStateOf(dir, group string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	return err == nil && strings.Contains(string(b), "/"+group+"/")
}
