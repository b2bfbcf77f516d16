package suite

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The import paths of BuildKit's harness and of the compat packages that
// replace it.
const (
	BuildkitIntegration = "github.com/moby/buildkit/util/testutil/integration"
	BuildkitWorkers     = "github.com/moby/buildkit/util/testutil/workers"
	CompatIntegration   = "github.com/matrixbox/matrixbox/compat/buildkit/integration"
	CompatWorkers       = "github.com/matrixbox/matrixbox/compat/buildkit/workers"
)

// Suite is one of BuildKit's integration test packages.
type Suite struct {
	// Name is the directory of the copy in the module ("dockerfile").
	Name string
	// Package is its import path in BuildKit.
	Package string
	// Dir is its directory inside BuildKit's module.
	Dir string
}

// Suites are the suites this package runs.
var Suites = []Suite{
	{Name: "dockerfile", Package: "github.com/moby/buildkit/frontend/dockerfile", Dir: "frontend/dockerfile"},
	{Name: "client", Package: "github.com/moby/buildkit/client", Dir: "client"},
}

// SuiteByName returns the suite called name.
func SuiteByName(name string) (Suite, error) {
	var names []string
	for _, s := range Suites {
		if s.Name == name {
			return s, nil
		}
		names = append(names, s.Name)
	}
	return Suite{}, fmt.Errorf("unknown suite %q (want one of %s)", name, strings.Join(names, ", "))
}

// Rewrite returns a Go source file with its imports of BuildKit's harness
// replaced by the compat packages; nothing else changes.
func Rewrite(src []byte) []byte {
	src = bytes.ReplaceAll(src, []byte(`"`+BuildkitIntegration+`"`), []byte(`"`+CompatIntegration+`"`))
	return bytes.ReplaceAll(src, []byte(`"`+BuildkitWorkers+`"`), []byte(`"`+CompatWorkers+`"`))
}

// copySuite copies the suite's Go files from BuildKit's module at bk into
// dst, its test files rewritten to the compat packages, and its testdata. The package's own
// files come along, so the copy is a package of its own under another
// import path: the client tests are internal tests of
// github.com/moby/buildkit/client, which matrixbox's workers import, so in
// place they could not import the compat layer (an import cycle); the copy
// can.
func copySuite(s Suite, bk, dst string) error {
	src := filepath.Join(bk, s.Dir)
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("suite %s: %w", s.Name, err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		test := strings.HasSuffix(name, "_test.go")
		if e.IsDir() || !strings.HasSuffix(name, ".go") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			return err
		}
		if test {
			b = Rewrite(b)
			n++
		}
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			return err
		}
	}
	if n == 0 {
		return fmt.Errorf("suite %s: no test files in %s", s.Name, src)
	}
	// The tests' data (v0.34's client suite embeds its golden files).
	if _, err := os.Stat(filepath.Join(src, "testdata")); err == nil {
		if out, err := exec.Command("cp", "-R", filepath.Join(src, "testdata"), dst).CombinedOutput(); err != nil {
			return fmt.Errorf("suite %s: copy its testdata: %v\n%s", s.Name, err, out)
		}
		// The module cache's files are read-only; the copy is removed
		// with the run's outputs.
		if out, err := exec.Command("chmod", "-R", "u+w", filepath.Join(dst, "testdata")).CombinedOutput(); err != nil {
			return fmt.Errorf("suite %s: %v\n%s", s.Name, err, out)
		}
	}
	return nil
}
