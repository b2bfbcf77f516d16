package supervise

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// owner is a test process as the reaper and the guard know it: its pid
// and its start time (clock ticks since boot), so that a pid the kernel
// has given to another process since is not taken for the test process
// that had it. start is 0 where only the pid is known: a name made by an
// older matrixbox, a MATRIXBOX_OWNER that carries only a pid.
type owner struct {
	pid   int
	start uint64
}

// String is the owner as names and MATRIXBOX_OWNER carry it: "<pid>.<start>",
// or "<pid>" when the start is not known.
func (o owner) String() string {
	if o.start == 0 {
		return strconv.Itoa(o.pid)
	}
	return strconv.Itoa(o.pid) + "." + strconv.FormatUint(o.start, 10)
}

// parseOwner reads what String writes.
func parseOwner(s string) (owner, bool) {
	ps, ss, dotted := strings.Cut(s, ".")
	pid, err := strconv.Atoi(ps)
	if err != nil || pid <= 0 || ps != strconv.Itoa(pid) {
		return owner{}, false
	}
	o := owner{pid: pid}
	if dotted {
		if o.start, err = strconv.ParseUint(ss, 10, 64); err != nil || o.start == 0 {
			return owner{}, false
		}
	}
	return o, true
}

// selfOwner is this process.
var selfOwner = sync.OnceValue(func() owner {
	o := owner{pid: os.Getpid()}
	o.start, _ = processStart(o.pid)
	return o
})

// running reports whether o still runs: its pid is alive and, when o's
// start is known, the process that has the pid now started then.
func (o owner) running() bool {
	if !pidAlive(o.pid) || ExitedUnreaped(o.pid) {
		return false
	}
	if o.start == 0 {
		return true
	}
	st, ok := processStart(o.pid)
	// A start that cannot be read is no proof that the process ended.
	return !ok || st == o.start
}

// is reports whether o and p name one process: the same pid and, where
// both starts are known, the same start.
func (o owner) is(p owner) bool {
	return o.pid == p.pid && (o.start == 0 || p.start == 0 || o.start == p.start)
}

// dirOwner parses the owner out of a name dirPrefix<owner>-<random>.
func dirOwner(name string) (owner, bool) {
	rest, ok := strings.CutPrefix(name, dirPrefix)
	if !ok {
		return owner{}, false
	}
	id, random, ok := strings.Cut(rest, "-")
	if !ok || random == "" {
		return owner{}, false
	}
	return parseOwner(id)
}

// notOurs says why the entry at path is not something this user made
// (another user's, a symlink, writable by others), or nil when it is. The
// reaper and the guard read and remove only what is theirs.
func notOurs(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		return fmt.Errorf("a symlink")
	case !fi.IsDir():
		return fmt.Errorf("not a directory (%s)", fi.Mode().Type())
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("writable by others (mode %s)", fi.Mode().Perm())
	}
	if uid, ok := fileUID(fi); ok && uid != os.Geteuid() {
		return fmt.Errorf("owned by uid %d, not by this user (uid %d)", uid, os.Geteuid())
	}
	return nil
}
