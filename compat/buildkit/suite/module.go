package suite

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ModulePath is the module path of the temporary module.
const ModulePath = "matrixbox.test/buildkitsuite"

// BuildkitModule is BuildKit's module path.
const BuildkitModule = "github.com/moby/buildkit"

// Module is a temporary Go module holding copies of BuildKit's suites on the
// compat layer; it requires BuildKit at the version under test and
// matrixbox itself through a replace to a checkout.
type Module struct {
	Dir string
	// Buildkit is BuildKit's module directory (in the module cache) and
	// BuildkitVersion its version.
	Buildkit        string
	BuildkitVersion string
}

// Prepare writes the module into dir (which must be empty or absent),
// requiring BuildKit at version (downloaded into the module cache when it
// is not there), with a copy of each suite of that version, and resolves
// its requirements: the module's go.mod is what a user's module that
// requires both matrixbox and that BuildKit resolves to. root is the
// matrixbox checkout.
func Prepare(ctx context.Context, dir, root, version string, suites ...Suite) (*Module, error) {
	bk, err := goOutput(ctx, root, "mod", "download", "-json", BuildkitModule+"@"+version)
	if err != nil {
		return nil, fmt.Errorf("download BuildKit %s into the module cache: %w", version, err)
	}
	var dl struct{ Dir, Version string }
	if err := json.Unmarshal([]byte(bk), &dl); err != nil || dl.Dir == "" {
		return nil, fmt.Errorf("go mod download %s@%s: no module directory in %q (%v)", BuildkitModule, version, bk, err)
	}
	m := &Module{Dir: dir, Buildkit: dl.Dir, BuildkitVersion: dl.Version}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for _, s := range suites {
		if err := copySuite(s, m.Buildkit, filepath.Join(dir, s.Name)); err != nil {
			return nil, err
		}
	}
	goVersion, err := goOutput(ctx, root, "list", "-m", "-f", "{{.GoVersion}}")
	if err != nil {
		return nil, err
	}
	gomod := fmt.Sprintf(`module %s

go %s

require (
	github.com/matrixbox/matrixbox v0.0.0
	%s %s
)

replace github.com/matrixbox/matrixbox => %s
`, ModulePath, goVersion, BuildkitModule, m.BuildkitVersion, root)
	// harness.go keeps BuildKit's own harness in the module graph, so that
	// BuildKit's unmodified test packages build from this module too.
	harness := fmt.Sprintf("//go:build harness\n\npackage harness\n\nimport (\n\t_ %q\n\t_ %q\n)\n", BuildkitIntegration, BuildkitWorkers)
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		return nil, err
	}
	for name, b := range map[string][]byte{"go.mod": []byte(gomod), "go.sum": sum, "harness/harness.go": []byte(harness)} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return nil, err
		}
	}
	if _, err := goOutput(ctx, dir, "mod", "tidy"); err != nil {
		return nil, fmt.Errorf("resolve the requirements of %s: %w", dir, err)
	}
	return m, nil
}

// Build compiles the suite's test binary for harness into out: the
// rewritten copy for Matrixbox, BuildKit's unmodified package for Buildkit.
func (m *Module) Build(ctx context.Context, s Suite, h Harness, out string) error {
	pkg := "./" + s.Name
	if h == Buildkit {
		pkg = s.Package
	}
	if _, err := goOutput(ctx, m.Dir, "test", "-c", "-o", out, pkg); err != nil {
		return fmt.Errorf("build %s for %s: %w", s.Name, h, err)
	}
	return nil
}

func goOutput(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, stderr)
	}
	return strings.TrimSpace(string(out)), nil
}
