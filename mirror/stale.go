package mirror

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// What a process killed in the middle of a build or a download leaves in
// the mirror directory, which other processes share: a build directory
// (recipes/.build-*), a download (recipes/sources/.tmp-*), a layout being
// copied in (recipes/.scratch-*), a compile (the build cache's
// .tmp-busybox-*). Such a temporary is named prefix<pid>-<random>, so that
// a later run removes one whose maker no longer runs and never one in use;
// one named by an older matrixbox, without the pid, is removed once it is
// older than the longest a build may take. Every Mirror does so once, at
// its first Ensure (sweepStale), so that a run that finds everything
// present cleans up too.

// tempPattern is the pattern of os.MkdirTemp and os.CreateTemp for a
// temporary of this process named prefix<pid>-<random>.
func tempPattern(prefix string) string {
	return prefix + strconv.Itoa(os.Getpid()) + "-*"
}

// removeStale removes, and names through logf (when not nil), the entries
// of dir named prefix… that no running process is making: those whose
// process is gone, and, with no pid in the name, those older than
// recipeBuildLimit. all, when the caller holds the lock under which every
// such entry is made, removes them whatever their name says.
func removeStale(dir, prefix string, all bool, logf func(string, ...any)) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !(all || stale(rest, e)) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		removeBuildDir(p)
		if _, err := os.Lstat(p); err == nil {
			logf("mirror: could not remove %s, left by a killed build or download", p)
			continue
		}
		logf("mirror: removed %s, left by a killed build or download", p)
	}
}

// stale reports whether the temporary whose name after its prefix is rest
// ("[<key>-]<pid>-<random>") has no running maker.
func stale(rest string, e os.DirEntry) bool {
	if f := strings.Split(rest, "-"); len(f) >= 2 {
		if pid, err := strconv.Atoi(f[len(f)-2]); err == nil && pid > 0 {
			err := syscall.Kill(pid, 0)
			return err != nil && err != syscall.EPERM
		}
	}
	fi, err := e.Info()
	return err == nil && time.Since(fi.ModTime()) > recipeBuildLimit
}

// sweepStale removes, once per Mirror, what killed builds and downloads of
// any process left in the directory and the build cache.
func (m *Mirror) sweepStale() {
	m.staleOnce.Do(func() {
		recipes := m.recipesDir()
		removeStale(recipes, ".build-", false, m.logf)
		removeStale(recipes, ".scratch-", false, m.logf)
		removeStale(filepath.Join(recipes, "sources"), ".tmp-", false, m.logf)
		removeStale(m.buildCacheDir(), ".tmp-busybox-", false, m.logf)
	})
}
