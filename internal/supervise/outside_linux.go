package supervise

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
)

// What a sandbox's daemons keep outside its directory: paths compiled into
// them under /run. A containerd shim listens on /run/containerd/s/<hex>,
// runc keeps a container's state under /run/runc/<id> (buildkitd's OCI
// worker, dockerd's builder) or /run/containerd/runc/<namespace>/<id> (a
// containerd shim), and a containerd client keeps a task's stdio fifos in
// /run/containerd/fifo/<n>/. Daemons started by sandbox.Config.Start as root run
// in a mount namespace of their backend where those directories but the
// fifos' are the sandbox's own (see RunDirs), so a kill leaves nothing
// there; what daemons started otherwise left is found and removed here,
// an entry only when it is provably the sandbox's own:
//
//   - a shim's socket, whose name is containerd's own: the sha256 of the
//     containerd's address, the task's namespace and its id, where the
//     address is a path in the sandbox and the namespace and id those of a
//     task bundle in its containerd's state (nothing read from a file
//     names what is removed);
//   - runc's state of a container, whose state.json (a file of this user
//     in a directory of this user) names a bundle in the sandbox;
//   - a fifo directory holding nothing but the fifos of tasks whose bundles
//     are in the sandbox.

// containerdLayouts are where the containerds of matrixbox's workers keep
// their state in a backend's directory (<sandbox>/b), with the address
// their shims' socket names are made from: the containerd of the
// containerd and buildkitd-containerd workers, and the one dockerd starts
// under its exec-root.
var containerdLayouts = []struct{ state, address string }{
	{"b/containerd/state", "b/containerd/containerd.sock"},
	{"b/exec/containerd/daemon", "b/exec/containerd/containerd.sock"},
}

const taskStateDir = "io.containerd.runtime.v2.task"

// RemoveOutside removes what the daemons of the sandbox dir left under
// runRoot (/run), and returns a line per thing removed.
func RemoveOutside(runRoot, dir string) []string {
	if _, err := os.Lstat(filepath.Join(dir, "b")); err != nil {
		return nil // no backend of its own
	}
	var removed []string
	tasks := map[string]bool{} // ids of the sandbox's tasks, for their fifos
	for _, l := range containerdLayouts {
		addr := filepath.Join(dir, l.address)
		for _, t := range taskBundles(filepath.Join(dir, l.state, taskStateDir)) {
			tasks[t.id] = true
			for _, suffix := range []string{"", "debug"} {
				sum := sha256.Sum256([]byte(filepath.Join(addr, t.ns, t.id, suffix)))
				sock := filepath.Join(runRoot, "containerd", "s", hex.EncodeToString(sum[:]))
				if fi, err := os.Lstat(sock); err == nil && fi.Mode()&os.ModeSocket != 0 && os.Remove(sock) == nil {
					removed = append(removed, "shim socket "+sock+" of task "+t.ns+"/"+t.id)
				}
			}
		}
	}
	states := ownSubdirs(filepath.Join(runRoot, "runc"))
	for _, ns := range ownSubdirs(filepath.Join(runRoot, "containerd", "runc")) {
		states = append(states, ownSubdirs(ns)...)
	}
	for _, st := range states {
		if bundleIn(st, dir) && os.RemoveAll(st) == nil {
			removed = append(removed, "runc state "+st)
		}
	}
	if len(tasks) > 0 {
		for _, fd := range ownSubdirs(filepath.Join(runRoot, "containerd", "fifo")) {
			if onlyFifosOf(fd, tasks) && os.RemoveAll(fd) == nil {
				removed = append(removed, "fifos "+fd)
			}
		}
	}
	return removed
}

type taskBundle struct{ ns, id string }

// taskBundles lists the task bundles <ns>/<id> under a containerd's task
// state directory.
func taskBundles(dir string) []taskBundle {
	var out []taskBundle
	for _, ns := range ownSubdirs(dir) {
		for _, b := range ownSubdirs(ns) {
			out = append(out, taskBundle{ns: filepath.Base(ns), id: filepath.Base(b)})
		}
	}
	return out
}

// ownSubdirs lists the directories in dir that are this user's and no
// symlinks (see notOurs).
func ownSubdirs(dir string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if notOurs(p) == nil {
			out = append(out, p)
		}
	}
	return out
}

// bundleIn reports whether the runc state directory st is that of a
// container whose bundle is under dir: runc labels its config with
// "bundle=<path>".
func bundleIn(st, dir string) bool {
	p := filepath.Join(st, "state.json")
	fi, err := os.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o022 != 0 {
		return false
	}
	if uid, ok := fileUID(fi); ok && uid != os.Geteuid() {
		return false
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return false
	}
	var state struct {
		Config struct {
			Labels []string `json:"labels"`
		} `json:"config"`
	}
	if json.Unmarshal(b, &state) != nil {
		return false
	}
	for _, l := range state.Config.Labels {
		if bundle, ok := strings.CutPrefix(l, "bundle="); ok && strings.HasPrefix(filepath.Clean(bundle), dir+"/") {
			return true
		}
	}
	return false
}

// onlyFifosOf reports whether the fifo directory fd holds fifos and only
// fifos named <id>-stdin, <id>-stdout or <id>-stderr for ids in tasks.
func onlyFifosOf(fd string, tasks map[string]bool) bool {
	ents, err := os.ReadDir(fd)
	if err != nil || len(ents) == 0 {
		return false
	}
	for _, e := range ents {
		if e.Type()&os.ModeNamedPipe == 0 {
			return false
		}
		id, ok := "", false
		for _, s := range []string{"-stdin", "-stdout", "-stderr"} {
			if id, ok = strings.CutSuffix(e.Name(), s); ok {
				break
			}
		}
		if !ok || !tasks[id] {
			return false
		}
	}
	return true
}
