package buildkittest_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/matrixbox/matrixbox/buildkittest"
	"github.com/matrixbox/matrixbox/internal/testkit"
)

func writeTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	testkit.WriteFiles(t, dir, map[string]string{"a.txt": "a\n", "d/b.txt": "b\n", "d/e/c.sh": "#!/bin/sh\n"})
	if err := os.Chmod(filepath.Join(dir, "d/e/c.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.txt", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestVerifyDirPasses(t *testing.T) {
	dir := writeTree(t)
	want := fstest.MapFS{
		"a.txt":    {Data: []byte("a\n")},
		"d":        {Mode: fs.ModeDir},
		"d/b.txt":  {Data: []byte("b\n"), Mode: 0o644},
		"d/e/c.sh": {Data: []byte("#!/bin/sh\n"), Mode: 0o755},
		"link":     {Data: []byte("a.txt"), Mode: fs.ModeSymlink},
	}
	if err := buildkittest.VerifyDir(dir, want, buildkittest.NothingElse()); err != nil {
		t.Fatal(err)
	}
	if err := buildkittest.VerifyDir(dir, fstest.MapFS{"d/b.txt": {Data: []byte("b\n")}}); err != nil {
		t.Errorf("a subset without NothingElse: %v", err)
	}
}

// TestVerifyDirReportsAll: every mismatch in one error, sorted by path.
func TestVerifyDirReportsAll(t *testing.T) {
	dir := writeTree(t)
	err := buildkittest.VerifyDir(dir, fstest.MapFS{
		"a.txt":    {Data: []byte("A\n")},
		"d/b.txt":  {Mode: fs.ModeDir},
		"d/e/c.sh": {Data: []byte("#!/bin/sh\n"), Mode: 0o700},
		"link":     {Data: []byte("b.txt"), Mode: fs.ModeSymlink},
		"missing":  {},
		"../out":   {},
	}, buildkittest.NothingElse())
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		`../out: not a relative slash-separated path`,
		`a.txt: content "a\n", want "A\n"`,
		`d/b.txt: is a regular file, want a directory`,
		`d/e/c.sh: mode -rwxr-xr-x, want -rwx------`,
		`link: links to "a.txt", want "b.txt"`,
		`missing: missing`,
		"6 mismatches",
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
	// NothingElse with a subset: what is not named is unexpected.
	if err := buildkittest.VerifyDir(dir, fstest.MapFS{"a.txt": {Data: []byte("a\n")}}, buildkittest.NothingElse()); err == nil ||
		!strings.Contains(err.Error(), "d: unexpected directory") || !strings.Contains(err.Error(), "link: unexpected file") {
		t.Errorf("NothingElse with a subset: %v", err)
	}
}
