package buildkittest

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
)

// DirOption changes what [CheckDir] and [VerifyDir] accept.
type DirOption func(*dirCheck)

type dirCheck struct {
	nothingElse bool
}

// NothingElse makes every entry of the directory that want does not name
// (other than the parent directories of what it names) a mismatch too.
func NothingElse() DirOption { return func(c *dirCheck) { c.nothingElse = true } }

// CheckDir compares the directory dir, an exported build result, with
// want, and fails t with every mismatch at once, as testing/fstest.TestFS
// reports a file system. For each entry of want (a slash-separated path
// relative to dir): a regular file must exist with exactly that content, a
// directory (Mode has fs.ModeDir) must be a directory, a symlink (Mode has
// fs.ModeSymlink) must point where Data says; permission bits are compared
// when Mode has any. It reports whether dir passed.
func CheckDir(t testing.TB, dir string, want fstest.MapFS, opts ...DirOption) bool {
	t.Helper()
	if err := VerifyDir(dir, want, opts...); err != nil {
		t.Error(err)
		return false
	}
	return true
}

// VerifyDir is [CheckDir] without a test: every mismatch, in one error.
func VerifyDir(dir string, want fstest.MapFS, opts ...DirOption) error {
	var c dirCheck
	for _, o := range opts {
		o(&c)
	}
	var bad []string
	named := map[string]bool{}
	for name, f := range want {
		clean := path.Clean(name)
		if !fs.ValidPath(clean) || clean == "." {
			bad = append(bad, fmt.Sprintf("%s: not a relative slash-separated path (want entry)", name))
			continue
		}
		for p := clean; p != "."; p = path.Dir(p) {
			named[p] = true
		}
		if msg := checkEntry(filepath.Join(dir, filepath.FromSlash(clean)), f); msg != "" {
			bad = append(bad, clean+": "+msg)
		}
	}
	if c.nothingElse {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			rel = filepath.ToSlash(rel)
			if rel != "." && !named[rel] {
				kind := "file"
				if d.IsDir() {
					kind = "directory"
				}
				bad = append(bad, fmt.Sprintf("%s: unexpected %s", rel, kind))
				if d.IsDir() {
					return fs.SkipDir
				}
			}
			return nil
		})
		if err != nil {
			bad = append(bad, fmt.Sprintf("walk: %v", err))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return fmt.Errorf("directory %s: %d mismatches:\n\t%s", dir, len(bad), strings.Join(bad, "\n\t"))
}

// checkEntry compares one path with its wanted entry; "" when it matches.
func checkEntry(p string, want *fstest.MapFile) string {
	if want == nil {
		want = &fstest.MapFile{}
	}
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "missing"
	}
	if err != nil {
		return err.Error()
	}
	var msgs []string
	switch {
	case want.Mode&fs.ModeDir != 0:
		if !fi.IsDir() {
			return fmt.Sprintf("is a %s, want a directory", kindOf(fi.Mode()))
		}
	case want.Mode&fs.ModeSymlink != 0:
		if fi.Mode()&fs.ModeSymlink == 0 {
			return fmt.Sprintf("is a %s, want a symlink to %q", kindOf(fi.Mode()), want.Data)
		}
		target, err := os.Readlink(p)
		if err != nil {
			return err.Error()
		}
		if target != string(want.Data) {
			msgs = append(msgs, fmt.Sprintf("links to %q, want %q", target, want.Data))
		}
	default:
		if !fi.Mode().IsRegular() {
			return fmt.Sprintf("is a %s, want a regular file", kindOf(fi.Mode()))
		}
		got, err := os.ReadFile(p)
		if err != nil {
			return err.Error()
		}
		if !bytes.Equal(got, want.Data) {
			msgs = append(msgs, fmt.Sprintf("content %s, want %s", clip(got), clip(want.Data)))
		}
	}
	if perm := want.Mode.Perm(); perm != 0 && fi.Mode().Perm() != perm && fi.Mode()&fs.ModeSymlink == 0 {
		msgs = append(msgs, fmt.Sprintf("mode %v, want %v", fi.Mode().Perm(), perm))
	}
	return strings.Join(msgs, "; ")
}

func kindOf(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m.IsRegular():
		return "regular file"
	}
	return "special file (" + m.Type().String() + ")"
}

// clip quotes b, shortened to its first 200 bytes.
func clip(b []byte) string {
	const max = 200
	if len(b) > max {
		return fmt.Sprintf("%q… (%d bytes)", b[:max], len(b))
	}
	return fmt.Sprintf("%q", b)
}
