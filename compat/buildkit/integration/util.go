package integration

import (
	"errors"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unicode"

	"github.com/containerd/continuity/fs/fstest"
	"github.com/tonistiigi/fsutil"
)

// ErrRequirements is wrapped by errors that mean the machine lacks what a
// test needs; suites skip on it.
var ErrRequirements = errors.New("missing requirements")

// TmpDirWithName is a directory made by Tmpdir: its files as an fsutil.FS,
// and its path.
type TmpDirWithName struct {
	fsutil.FS
	Name string
}

// String is the directory's path, so that the value formats with %s.
func (d *TmpDirWithName) String() string { return d.Name }

// Tmpdir makes a directory with the files of appliers, removed when the
// test ends. It is made under the system temp dir, not t.TempDir, whose
// long paths cannot hold a unix socket (fstest.CreateSocket).
func Tmpdir(t *testing.T, appliers ...fstest.Applier) *TmpDirWithName {
	t.Helper()
	dir, err := os.MkdirTemp("", "buildkit")
	if err != nil {
		t.Fatalf("Tmpdir: %v", err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("Tmpdir: remove %s: %v", dir, err)
		}
	})
	if err := fstest.Apply(appliers...).Apply(dir); err != nil {
		t.Fatalf("Tmpdir: write files into %s: %v", dir, err)
	}
	fs, err := fsutil.NewFS(dir)
	if err != nil {
		t.Fatalf("Tmpdir: %v", err)
	}
	return &TmpDirWithName{FS: fs, Name: dir}
}

// SkipOnPlatform skips the test on goos ("windows"), or on every other
// system when goos is negated ("!linux").
func SkipOnPlatform(t *testing.T, goos string, reason ...string) {
	t.Helper()
	skip := runtime.GOOS == goos
	if g, ok := strings.CutPrefix(goos, "!"); ok {
		goos, skip = g, runtime.GOOS != g
	}
	if !skip {
		return
	}
	if len(reason) > 0 {
		t.Skipf("Skipped on %s: %s", goos, strings.Join(reason, " "))
	}
	t.Skipf("Skipped on %s", goos)
}

// UnixOrWindows returns windows on Windows and unix elsewhere.
func UnixOrWindows[T any](unix, windows T) T {
	if runtime.GOOS == "windows" {
		return windows
	}
	return unix
}

// funcName names a test function as BuildKit's harness does: the part of
// its symbol after the last dot, each word's first letter upper-cased
// (strings.Title's rule: a word starts after anything that is not a
// letter, a digit or '_').
func funcName(fn any) string {
	full := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
	name := full[strings.LastIndex(full, ".")+1:]
	var b strings.Builder
	prev := ' '
	for _, r := range name {
		if isWordBreak(prev) {
			r = unicode.ToTitle(r)
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

func isWordBreak(r rune) bool {
	if r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) {
		return false
	}
	if r <= unicode.MaxASCII {
		return true
	}
	return unicode.IsSpace(r)
}
