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
// it, including daemons' helpers that leave the process group, such as
// containerd shims.
const EnvOwner = "MATRIXBOX_OWNER"

// ownerKey is EnvOwner; tests of the reaper use another key so that a
// concurrent test process's reaper never takes their deliberate leftovers.
var ownerKey = EnvOwner

func ownerEnv() string { return ownerKey + "=" + strconv.Itoa(os.Getpid()) }

// Reap removes what earlier test processes that died left behind: processes
// whose MATRIXBOX_OWNER is a pid no longer running, and DirPrefix<pid>-*
// directories under ShortTempRoot whose pid is gone (mounts under them are
// detached first). It returns a line per thing removed.
func Reap() ([]string, error) { return reap(ShortTempRoot(), ownerKey) }

func reap(root, key string) ([]string, error) {
	var removed []string
	var errs []error
	for _, p := range deadOwnerProcesses(key) {
		if err := syscall.Kill(p.Pid, syscall.SIGKILL); err == nil {
			removed = append(removed, fmt.Sprintf("process %d (%s) of dead test process %d", p.Pid, p.Cmdline, p.owner))
		}
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return removed, err
	}
	for _, e := range ents {
		owner, ok := dirOwner(e.Name())
		if !ok || owner == os.Getpid() || pidAlive(owner) {
			continue
		}
		dir := filepath.Join(root, e.Name())
		for _, m := range detachMountsUnder(dir) {
			removed = append(removed, "mount "+m)
		}
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, fmt.Errorf("reap %s: %w", dir, err))
			continue
		}
		removed = append(removed, fmt.Sprintf("dir %s of dead test process %d", dir, owner))
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

func deadOwnerProcesses(key string) []ownedProc {
	var out []ownedProc
	for _, p := range processesWithEnvKey(key) {
		if owner, err := strconv.Atoi(p.value); err == nil && owner != os.Getpid() && !pidAlive(owner) {
			out = append(out, ownedProc{Proc: p.Proc, owner: owner})
		}
	}
	return out
}
