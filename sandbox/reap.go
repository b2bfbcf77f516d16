package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// EnvOwner is set to the test process's pid in the environment of every
// process matrixbox starts (daemons and sandbox commands); children inherit
// it. It finds what a test process left where its sandboxes had no cgroup
// (not root); cgroups find everything else, containers included.
const EnvOwner = "MATRIXBOX_OWNER"

// ownerKey is EnvOwner; tests of the reaper use another key (and another
// cgroupRoot) so that a concurrent test process's reaper never takes their
// deliberate leftovers.
var ownerKey = EnvOwner

// cgroupRoot is the cgroup under which every sandbox's group is made, in
// every hierarchy.
var cgroupRoot = "matrixbox"

func ownerEnv() string { return ownerKey + "=" + strconv.Itoa(os.Getpid()) }

// Reap removes what earlier test processes that died left behind: the
// cgroups of their sandboxes with every process in them, processes whose
// MATRIXBOX_OWNER is a pid no longer running, and DirPrefix<pid>-*
// directories under ShortTempRoot whose pid is gone (mounts under them are
// detached first), and the network bridges made for their daemons. It
// returns a line per thing removed.
//
// A dead test process whose guard still runs is left to its guard: the
// guard is removing it and will say what it removed.
func Reap() ([]string, error) {
	return removeOwned(defaultScope(), unguardedDead(), false)
}

// unguardedDead is the reaper's test of an owner: another process than this
// one, no longer running, and with no guard at work on what it left (a
// process whose environment has envGuardFor=<owner>). Guards are looked up
// once per owner.
func unguardedDead() func(owner int) bool {
	guarded := map[int]bool{}
	return func(owner int) bool {
		if owner == os.Getpid() || pidAlive(owner) {
			return false
		}
		g, ok := guarded[owner]
		if !ok {
			g = len(ProcessesWithEnv(envGuardFor, strconv.Itoa(owner))) > 0
			guarded[owner] = g
		}
		return !g
	}
}

// WarmMark is the file, in a backend's directory, that marks a warm
// backend: kept on purpose for later cases until the test process ends, so
// that its guard removes it without calling it a leftover.
const WarmMark = "matrixbox-warm"

// scope is where the things of test processes are found: the directory
// their sandbox dirs are made in, the environment key of their processes
// and the cgroup their groups are made under. Tests of the reaper and the
// guard use a scope of their own.
type scope struct {
	tmpRoot, ownerKey, cgroupRoot string
}

func defaultScope() scope {
	return scope{tmpRoot: ShortTempRoot(), ownerKey: ownerKey, cgroupRoot: cgroupRoot}
}

// removeOwned removes what belongs to the test processes whose pid
// satisfies dead: first every process (by cgroup, then by environment),
// then mounts and directories, then the emptied cgroups and the network
// bridges. It returns a line
// per thing removed.
//
// With quietWarm, what belongs to warm backends (WarmMark) is removed
// without a line: the guard of a process that kept them until its end.
func removeOwned(sc scope, dead func(owner int) bool, quietWarm bool) ([]string, error) {
	var removed []string
	var errs []error
	var dirs []string
	quiet := map[string]bool{} // by directory and group base name
	ents, _ := os.ReadDir(sc.tmpRoot)
	for _, e := range ents {
		if owner, ok := dirOwner(e.Name()); ok && dead(owner) {
			dirs = append(dirs, e.Name())
			if _, err := os.Stat(filepath.Join(sc.tmpRoot, e.Name(), WarmMark)); err == nil && quietWarm {
				quiet[e.Name()] = true
			}
		}
	}
	say := func(name, line string) {
		if !quiet[name] {
			removed = append(removed, line)
		}
	}
	groups := ownedGroups(sc.cgroupRoot, dead)
	for _, g := range groups {
		for _, p := range killCgroup(g) {
			say(filepath.Base(g), fmt.Sprintf("process %d (%s) in cgroup %s", p.Pid, p.Cmdline, g))
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
			removed = appendOnce(removed, fmt.Sprintf("process %d (%s) of test process %d", p.Pid, p.Cmdline, p.owner))
		}
	}
	for _, name := range dirs {
		dir := filepath.Join(sc.tmpRoot, name)
		for _, m := range detachMountsUnder(dir) {
			say(name, "mount "+m)
		}
		for _, o := range removeOutside(dir, sc.cgroupRoot+"/"+name) {
			say(name, o)
		}
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", dir, err))
			continue
		}
		owner, _ := dirOwner(name)
		say(name, fmt.Sprintf("dir %s of test process %d", dir, owner))
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
	return removed, errors.Join(errs...)
}

// dirOwner parses the pid out of "mbx-<pid>-<random>".
func dirOwner(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, DirPrefix)
	if !ok {
		return 0, false
	}
	ps, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(ps)
	return pid, err == nil && pid > 0
}

func pidAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

type ownedProc struct {
	Proc
	owner int
}

func ownedProcesses(key string, dead func(owner int) bool) []ownedProc {
	var out []ownedProc
	for _, p := range processesWithEnvKey(key) {
		if owner, err := strconv.Atoi(p.value); err == nil && dead(owner) {
			out = append(out, ownedProc{Proc: p.Proc, owner: owner})
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
