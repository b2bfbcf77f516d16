package supervise

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// EnvOwner is set, in the environment of every process matrixbox starts
// (daemons and sandbox commands), to the test process that started it:
// its pid and start time, <pid>.<start>; children inherit it. It finds what
// a test process left where its sandboxes had no cgroup (not root);
// cgroups find everything else, containers included.
const EnvOwner = "MATRIXBOX_OWNER"

// EnvMarker is the variable every command of a sandbox carries, set to the
// sandbox directory, so that what a test leaves running can be found where
// the sandbox has no cgroup.
const EnvMarker = "MATRIXBOX_SANDBOX"

// ownerKey is EnvOwner; tests of the reaper use another key (and another
// cgroupRoot) so that a concurrent test process's reaper never takes their
// deliberate leftovers.
var ownerKey = EnvOwner

// cgroupRoot is the cgroup under which every sandbox's group is made, in
// every hierarchy.
var cgroupRoot = "matrixbox"

func OwnerEnv() string { return ownerKey + "=" + selfOwner().String() }

// ProcessesOf returns the running processes that carry EnvOwner naming the
// test process pid, whatever its start time.
func ProcessesOf(pid int) []Proc {
	var out []Proc
	for _, p := range processesWithEnvKey(EnvOwner) {
		if o, ok := parseOwner(p.value); ok && o.pid == pid {
			out = append(out, p.Proc)
		}
	}
	return out
}

// Reap removes what earlier test processes that died left behind: the
// cgroups of their sandboxes with every process in them, processes whose
// MATRIXBOX_OWNER is a test process no longer running, and
// dirPrefix<owner>-* directories under ShortTempRoot whose owner is gone
// (mounts under them are detached first), and the network bridges made for
// their daemons. It returns a line per thing removed, and a line per thing
// it left alone because it cannot prove it is its own to remove: a
// directory of that name made by another user, a symlink, one writable by
// others.
//
// A test process is known by its pid and its start time, so that a pid
// given to another process since is not taken for it. A dead test process
// whose guard still runs is left to its guard: the guard is removing it
// and will say what it removed.
func Reap() (removed, leftAlone []string, err error) {
	return removeOwned(defaultScope(), unguardedDead(), false)
}

// unguardedDead is the reaper's test of an owner: another process than this
// one, no longer running, and with no guard at work on what it left (a
// process of this user whose environment has envGuardFor naming the
// owner). Guards are looked up once.
func unguardedDead() func(o owner) bool {
	var guards []owner
	var once sync.Once
	return func(o owner) bool {
		if o.is(selfOwner()) && pidAlive(o.pid) || o.running() {
			return false
		}
		once.Do(func() { guards = runningGuards() })
		for _, g := range guards {
			if g.is(o) {
				return false
			}
		}
		return true
	}
}

// runningGuards lists the test processes whose guards run: processes of
// this user with envGuardFor in their environment.
func runningGuards() []owner {
	var out []owner
	for _, p := range processesWithEnvKey(envGuardFor) {
		if !p.mine {
			continue
		}
		id, _, _ := strings.Cut(p.value, ":")
		if o, ok := parseOwner(id); ok {
			out = append(out, o)
		}
	}
	return out
}

// WarmMark is the file, in a backend's directory, that marks a warm
// backend: kept on purpose for later cases until the test process ends, so
// that its guard removes it without calling it a leftover.
const WarmMark = "matrixbox-warm"

// scope is where the things of test processes are found: the directory
// their sandbox dirs are made in, the environment key of their processes,
// the cgroup their groups are made under, and the directory under which
// daemons keep runtime state (/run). Tests of the reaper and the guard use
// a scope of their own.
type scope struct {
	tmpRoot, ownerKey, cgroupRoot, runRoot string
}

// DefaultRunRoot is where daemons keep runtime state by default.
const DefaultRunRoot = "/run"

func defaultScope() scope {
	return scope{tmpRoot: ShortTempRoot(), ownerKey: ownerKey, cgroupRoot: cgroupRoot, runRoot: DefaultRunRoot}
}

// removeOwned removes what belongs to the test processes that satisfy
// dead: first every process (by cgroup, then by environment), then mounts
// and directories, then the emptied cgroups and the network bridges. It
// returns a line per thing removed, and a line per directory of a dead
// owner's name that it left alone because it is not this user's (see
// notOurs): nothing under such a directory is read or removed.
//
// With quietWarm, what belongs to warm backends (WarmMark) is named apart,
// as what the process kept on purpose, and only beside other leftovers:
// the guard of a process that kept them until its end.
func removeOwned(sc scope, dead func(o owner) bool, quietWarm bool) (removed, leftAlone []string, err error) {
	var errs []error
	var dirs []string
	warmDirs := map[string]bool{} // by directory and group base name
	ents, _ := os.ReadDir(sc.tmpRoot)
	for _, e := range ents {
		o, ok := dirOwner(e.Name())
		if !ok || !dead(o) {
			continue
		}
		p := filepath.Join(sc.tmpRoot, e.Name())
		if why := notOurs(p); why != nil {
			leftAlone = append(leftAlone, fmt.Sprintf("%s: %v", p, why))
			continue
		}
		dirs = append(dirs, e.Name())
		if fi, err := os.Lstat(filepath.Join(p, WarmMark)); err == nil && fi.Mode().IsRegular() && quietWarm {
			warmDirs[e.Name()] = true
		}
	}
	var warmLines []string
	say := func(name, line string) {
		if warmDirs[name] {
			warmLines = append(warmLines, line)
		} else {
			removed = append(removed, line)
		}
	}
	groups := ownedGroups(sc.cgroupRoot, dead)
	// Every group is listed before any is killed: killing one can end
	// processes of another (a container's init takes its pid namespace
	// with it, a case's command entered into it among them), which would
	// then go unnamed.
	listed := map[string][]Proc{}
	for _, g := range groups {
		listed[g] = cgroupProcs(g)
	}
	// A daemon the harness recorded is named as that daemon wherever it
	// is found: in a cgroup its command line may already be gone (a
	// daemon ending by its parent-death signal reads as "").
	recorded := map[string][]recordedDaemon{} // by dir name
	daemonAt := map[int]string{}
	for _, name := range dirs {
		recorded[name] = recordedDaemons(filepath.Join(sc.tmpRoot, name))
		for _, d := range recorded[name] {
			daemonAt[d.pid] = d.name
		}
	}
	named := map[int]bool{} // the processes named, by pid
	for _, g := range groups {
		for _, p := range append(listed[g], killCgroup(g)...) {
			if named[p.Pid] {
				continue
			}
			named[p.Pid] = true
			if d, ok := daemonAt[p.Pid]; ok {
				say(filepath.Base(g), fmt.Sprintf("daemon %s (pid %d) in cgroup %s", d, p.Pid, g))
			} else {
				say(filepath.Base(g), fmt.Sprintf("process %d (%s) in cgroup %s", p.Pid, p.Cmdline, g))
			}
		}
	}
	// Killing a daemon found by its environment can make its children show
	// up a moment later; a few rounds catch them.
	for round := 0; round < 5; round++ {
		procs := ownedProcesses(sc.ownerKey, dead)
		if len(procs) == 0 {
			break
		}
		for _, p := range procs {
			_ = syscall.Kill(p.Pid, syscall.SIGKILL)
			removed = appendOnce(removed, fmt.Sprintf("process %d (%s) of test process %d", p.Pid, p.Cmdline, p.owner.pid))
		}
	}
	for _, name := range dirs {
		dir := filepath.Join(sc.tmpRoot, name)
		for _, d := range recorded[name] {
			if named[d.pid] {
				continue
			}
			if d.running() {
				_ = syscall.Kill(d.pid, syscall.SIGKILL)
				say(name, fmt.Sprintf("daemon %s (pid %d)", d.name, d.pid))
			} else {
				say(name, fmt.Sprintf("daemon %s (pid %d), ended already (with its test process, by its parent-death signal, or killed)", d.name, d.pid))
			}
		}
		for _, m := range DetachMountsUnder(dir) {
			say(name, "mount "+m)
		}
		for _, o := range RemoveOutside(sc.runRoot, dir) {
			say(name, o)
		}
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", dir, err))
			continue
		}
		o, _ := dirOwner(name)
		say(name, fmt.Sprintf("dir %s of test process %d", dir, o.pid))
	}
	for _, g := range groups {
		if err := removeCgroup(g); err != nil {
			errs = append(errs, err)
			continue
		}
		say(filepath.Base(g), "cgroup "+g)
	}
	if err := removeBridges(dead, say); err != nil {
		errs = append(errs, err)
	}
	// Alone, the warm backends are what a process that ended normally
	// (without integration.Main to stop them) kept on purpose: no news.
	// Beside leftovers, they are named too: work may have been in flight.
	if len(warmLines) > 0 && len(removed) > 0 {
		removed = append(removed, "and the warm backends it kept for later cases:")
		for _, l := range warmLines {
			removed = append(removed, "  "+l)
		}
	}
	return removed, leftAlone, errors.Join(errs...)
}

func pidAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

type ownedProc struct {
	Proc
	owner owner
}

// ownedProcesses lists the processes of this user whose key names an owner
// that dead accepts.
func ownedProcesses(key string, dead func(o owner) bool) []ownedProc {
	var out []ownedProc
	for _, p := range processesWithEnvKey(key) {
		if o, ok := parseOwner(p.value); ok && p.mine && dead(o) {
			out = append(out, ownedProc{Proc: p.Proc, owner: o})
		}
	}
	return out
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
