package supervise

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// hierarchy is one mounted cgroup hierarchy.
type hierarchy struct {
	mount string // where it is mounted, e.g. /sys/fs/cgroup/memory
	v2    bool
}

var (
	hierOnce sync.Once
	hiers    []hierarchy
)

// hierarchies lists the mounted cgroup hierarchies, each once (a hierarchy
// mounted twice has one superblock), the cgroup2 one first.
func hierarchies() []hierarchy {
	hierOnce.Do(func() {
		f, err := os.Open("/proc/self/mountinfo")
		if err != nil {
			return
		}
		defer f.Close()
		seen := map[string]bool{}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			pre, post, ok := strings.Cut(sc.Text(), " - ")
			fields, fsFields := strings.Fields(pre), strings.Fields(post)
			if !ok || len(fields) < 5 || len(fsFields) < 1 {
				continue
			}
			fstype := fsFields[0]
			if fstype != "cgroup" && fstype != "cgroup2" {
				continue
			}
			if seen[fields[2]] {
				continue
			}
			seen[fields[2]] = true
			hiers = append(hiers, hierarchy{mount: unescapeMount(fields[4]), v2: fstype == "cgroup2"})
		}
		slices.SortStableFunc(hiers, func(a, b hierarchy) int {
			switch {
			case a.v2 == b.v2:
				return 0
			case a.v2:
				return -1
			}
			return 1
		})
	})
	return hiers
}

// Group is the cgroup of one sandbox, made in every mounted hierarchy: the
// daemons its worker starts go into its leaf "d" and the commands of
// box.Box.Cmd into its leaf "c" (cloned straight into them on cgroup v2, so
// that nothing they fork escapes), and the daemons put their containers
// under [Group.Parent]. Killing the group kills all of it, wherever each
// process was re-parented to, and works the same from the normal close, the
// guard and the reaper, which find groups by name: the name of the
// sandbox's directory, dirPrefix<pid>.<start>-….
type Group struct {
	name string // e.g. "matrixbox/mbx-123.456-789"
}

// groupLeaves are the leaves every group has: daemons and commands. They
// keep the group's own node free of processes, as cgroup v2 requires of a
// node whose children get controllers (a daemon's containers).
var groupLeaves = []string{"d", "c"}

// NewGroup makes the group named after dir's base name in every hierarchy.
// It fails where cgroups cannot be written (not root): the caller then
// falls back to finding processes by their environment.
func NewGroup(dir string) (*Group, error) {
	hs := hierarchies()
	if len(hs) == 0 {
		return nil, errors.New("no cgroup hierarchy is mounted")
	}
	g := &Group{name: cgroupRoot + "/" + filepath.Base(dir)}
	// With cgroup v2 the group lives there alone: processes are cloned into
	// it, and runc places containers under the parent it is given in every
	// hierarchy by itself. Without v2, the v1 hierarchies track the group.
	if hs[0].v2 {
		hs = hs[:1]
	}
	for _, h := range hs {
		for _, leaf := range groupLeaves {
			p := filepath.Join(h.mount, g.name, leaf)
			if err := mkdirCgroup(p); err != nil {
				err = fmt.Errorf("make cgroup %s: %w", p, err)
				if rerr := g.Remove(); rerr != nil {
					err = errors.Join(err, rerr)
				}
				return nil, err
			}
		}
	}
	return g, nil
}

// mkdirCgroup makes p and its parents. The root directory of all groups is
// removed by whoever removes the last group in it; a concurrent removal
// between the parent's mkdir and the child's is met by making both again.
func mkdirCgroup(p string) error {
	for attempt := 0; ; attempt++ {
		err := os.MkdirAll(p, 0o755)
		if err == nil || !errors.Is(err, fs.ErrNotExist) || attempt == 3 {
			return err
		}
	}
}

// Name is the group's path relative to each hierarchy's root, e.g.
// "matrixbox/mbx-123.456-789".
func (g *Group) Name() string { return g.name }

// Parent is the cgroup parent to give daemons for their containers, e.g.
// "/matrixbox/mbx-123.456-789" (buildkitd's defaultCgroupParent, dockerd's
// --cgroup-parent, a containerd container's cgroups path).
func (g *Group) Parent() string { return "/" + g.name }

// Attach makes cmd start inside the group's leaf: cloned into it on cgroup
// v2 (the returned func, to call after Start, closes the directory handle),
// else moved there right after Start by the returned func.
func (g *Group) Attach(cmd *exec.Cmd, leaf string) (after func(), err error) {
	fd, err := g.OpenLeaf(leaf)
	if err == nil {
		CloneInto(cmd, fd)
		return func() { _ = syscall.Close(fd) }, nil
	}
	if !errors.Is(err, errNoV2) {
		return nil, err
	}
	// Only cgroup v1: a process can be moved only once it exists. A daemon
	// forks its helpers well after its start, so moving it at once catches
	// them.
	return func() {
		if cmd.Process != nil {
			_ = g.move(cmd.Process.Pid, leaf)
		}
	}, nil
}

// errNoV2 says the machine has no cgroup v2 hierarchy to clone into.
var errNoV2 = errors.New("no cgroup v2 hierarchy is mounted")

// OpenLeaf opens the group's leaf in the cgroup v2 hierarchy, for cloning
// processes into it; the caller closes the descriptor.
func (g *Group) OpenLeaf(leaf string) (int, error) {
	hs := hierarchies()
	if len(hs) == 0 || !hs[0].v2 {
		return -1, errNoV2
	}
	p := filepath.Join(hs[0].mount, g.name, leaf)
	fd, err := syscall.Open(p, syscall.O_DIRECTORY|syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open cgroup %s: %w", p, err)
	}
	return fd, nil
}

// CloneInto makes cmd start inside the cgroup v2 directory open as fd
// (clone3 with CLONE_INTO_CGROUP), so that nothing it forks escapes.
func CloneInto(cmd *exec.Cmd, fd int) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.UseCgroupFD = true
	cmd.SysProcAttr.CgroupFD = fd
}

func CloseFD(fd int) error { return syscall.Close(fd) }

func (g *Group) move(pid int, leaf string) error {
	var errs []error
	for _, h := range hierarchies() {
		p := filepath.Join(h.mount, g.name, leaf, "cgroup.procs")
		if err := os.WriteFile(p, []byte(strconv.Itoa(pid)), 0); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Procs returns the processes running anywhere in the group, in any
// hierarchy: the daemons, their helpers, their containers and the
// sandbox's commands.
func (g *Group) Procs() []Proc { return g.procs("") }

// Remains lists the cgroup directories of the group still present in any
// hierarchy; none once the sandbox is closed.
func (g *Group) Remains() []string {
	var out []string
	for _, h := range hierarchies() {
		p := filepath.Join(h.mount, g.name)
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// procs returns the live processes anywhere in the group (below sub, ""
// for all of it), in any hierarchy.
func (g *Group) procs(sub string) []Proc {
	return cgroupProcs(filepath.Join(g.name, sub))
}

func cgroupProcs(name string) []Proc {
	seen := map[int]bool{}
	var out []Proc
	self := os.Getpid()
	for _, h := range hierarchies() {
		_ = filepath.WalkDir(filepath.Join(h.mount, name), func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			b, err := os.ReadFile(filepath.Join(p, "cgroup.procs"))
			if err != nil {
				return nil
			}
			for _, f := range strings.Fields(string(b)) {
				pid, err := strconv.Atoi(f)
				if err != nil || seen[pid] || pid == self {
					continue
				}
				seen[pid] = true
				if st, err := readStat(pid); err != nil || st.state == 'Z' || st.state == 'X' {
					continue
				}
				out = append(out, Proc{Pid: pid, Cmdline: cmdline(pid)})
			}
			return nil
		})
	}
	return out
}

// Kill kills every process in the group (below sub) and waits until they
// are gone; it returns the processes it found.
func (g *Group) Kill(sub string) []Proc {
	return killCgroup(filepath.Join(g.name, sub))
}

// killTimeout bounds the wait for killed processes to leave their cgroup;
// a process in uninterruptible sleep (a hung mount) may take a while.
const killTimeout = 10 * time.Second

func killCgroup(name string) []Proc {
	var found []Proc
	seen := map[int]bool{}
	deadline := time.Now().Add(killTimeout)
	for {
		procs := cgroupProcs(name)
		if len(procs) == 0 || time.Now().After(deadline) {
			// A process leaves cgroup.procs when it starts exiting; the
			// init of a container's pid namespace then waits for the rest
			// of its namespace. Killed is gone, so wait for that too.
			for _, p := range found {
				for exiting(p.Pid) && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
			}
			return found
		}
		for _, p := range procs {
			if !seen[p.Pid] {
				seen[p.Pid] = true
				found = append(found, p)
			}
		}
		// cgroup.kill (cgroup v2, Linux 5.14) kills the whole subtree at
		// once, so nothing can fork away in between; the per-process kills
		// cover older kernels and v1-only machines.
		for _, h := range hierarchies() {
			if h.v2 {
				_ = os.WriteFile(filepath.Join(h.mount, name, "cgroup.kill"), []byte("1"), 0)
			}
		}
		for _, p := range procs {
			_ = syscall.Kill(p.Pid, syscall.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Remove kills what is left in the group and removes its cgroups in every
// hierarchy, deepest first.
func (g *Group) Remove() error {
	g.Kill("")
	return removeCgroup(g.name)
}

// removeCgroup removes the cgroup name (below the root of all groups,
// cgroupRoot) in every hierarchy. The root itself stays, empty, as docker's and
// buildkit's do: removing it when it looked empty raced with another test
// process making its group, or runc making a container's, under it (runc:
// "mkdir /sys/fs/cgroup/cpuset/matrixbox/mbx-…: no such file or
// directory").
func removeCgroup(name string) error {
	var errs []error
	for _, h := range hierarchies() {
		top := filepath.Join(h.mount, name)
		var dirs []string
		_ = filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := rmdirCgroup(dirs[i]); err != nil {
				errs = append(errs, fmt.Errorf("remove cgroup %s: %w", dirs[i], err))
			}
		}
	}
	return errors.Join(errs...)
}

// rmdirCgroup removes an empty cgroup. A killed process leaves its cgroup
// only once it has finished exiting, so EBUSY is waited out for a while.
func rmdirCgroup(p string) error {
	deadline := time.Now().Add(killTimeout)
	for {
		err := syscall.Rmdir(p)
		if err == nil || errors.Is(err, syscall.ENOENT) {
			return nil
		}
		if !errors.Is(err, syscall.EBUSY) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ownedGroups lists the names of the groups under root whose owner (in
// their name) satisfies keep; a group this user did not make is left out.
func ownedGroups(root string, keep func(o owner) bool) []string {
	seen := map[string]bool{}
	var out []string
	for _, h := range hierarchies() {
		ents, _ := os.ReadDir(filepath.Join(h.mount, root))
		for _, e := range ents {
			o, ok := dirOwner(e.Name())
			if !e.IsDir() || !ok || seen[e.Name()] || !keep(o) {
				continue
			}
			if fi, err := os.Lstat(filepath.Join(h.mount, root, e.Name())); err != nil {
				continue
			} else if uid, ok := fileUID(fi); ok && uid != os.Geteuid() {
				continue
			}
			seen[e.Name()] = true
			out = append(out, root+"/"+e.Name())
		}
	}
	return out
}

// exiting reports whether pid still exists other than as a zombie.
func exiting(pid int) bool {
	st, err := readStat(pid)
	return err == nil && st.state != 'Z' && st.state != 'X'
}

func cmdline(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if c := strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " ")); c != "" {
		return c
	}
	// A process in the middle of an exec has its new program but not yet
	// its arguments (and one that is exiting, neither): name the program.
	if exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe"); err == nil {
		return exe + " (starting)"
	}
	return ""
}
