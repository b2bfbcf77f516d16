package daemons

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestTable(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Table {
		if seen[r.ID()] {
			t.Errorf("%s twice", r.ID())
		}
		seen[r.ID()] = true
		if r.Built() == (r.Package != "") {
			t.Errorf("%s: want a module or a package, not both or neither", r.ID())
		}
		if r.Set != SetDefault && r.Set != SetAll {
			t.Errorf("%s: set %q", r.ID(), r.Set)
		}
		if r.Default && r.Set != SetDefault {
			t.Errorf("%s: a default version outside the default set", r.ID())
		}
		for _, b := range r.Binaries {
			if !r.Built() && !filepath.IsAbs(b.Package) {
				t.Errorf("%s: %s of a package is no absolute path", r.ID(), b.Package)
			}
		}
		if r.Component == Moby {
			checkMoby(t, r)
		}
	}
	for _, c := range Components() {
		n := 0
		for _, r := range Table {
			if r.Component == c && r.Default {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s has %d defaults, want 1", c, n)
		}
	}
}

// checkMoby checks that a built moby is stamped with its version, as its
// /version reports it, and that every moby runs on a containerd of the
// table, one of its own set.
func checkMoby(t *testing.T, r Release) {
	t.Helper()
	if r.Built() {
		want := "-X github.com/moby/moby/v2/dockerversion.Version=" + strings.TrimPrefix(r.Version, "v")
		if !slices.Contains(r.LDFlags, want) {
			t.Errorf("%s: no %q in its -ldflags %q", r.ID(), want, r.LDFlags)
		}
	}
	if r.Containerd != "" {
		if _, err := Lookup(Containerd, r.Containerd); err != nil {
			t.Errorf("%s runs on containerd %s: %v", r.ID(), r.Containerd, err)
			return
		}
	}
	if c := r.ContainerdRelease(); r.Set == SetDefault && c.Set != SetDefault {
		t.Errorf("%s, of the default set, runs on %s, which is not", r.ID(), c.ID())
	}
}

func TestParse(t *testing.T) {
	ids := func(rs []Release) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID())
		}
		return out
	}
	def, err := Parse(nil)
	if err != nil || !slices.Equal(ids(def), ids(InSet(SetDefault))) {
		t.Errorf("no arguments: %v, %v; want the default set", ids(def), err)
	}
	got, err := Parse([]string{"buildkit@v0.28.0", "containerd", "buildkit@v0.28.0"})
	if want := []string{"buildkit@v0.28.0", "containerd@" + Default(Containerd).Version}; err != nil || !slices.Equal(ids(got), want) {
		t.Errorf("Parse = %v, %v; want %v", ids(got), err, want)
	}
	all, _ := Parse([]string{"all"})
	if len(all) != len(Table) {
		t.Errorf("all: %d releases, want %d", len(all), len(Table))
	}
	for arg, want := range map[string]string{
		"buildkit@v9":  `buildkit "v9" is not a version matrixbox supports; it supports v0.34.2`,
		"nerdctl@v1":   `no component "nerdctl" (there are buildkit, containerd, moby, runc, registry)`,
		"buildkitd":    `"buildkitd": want "default", "all", a component`,
		"moby@v20.10x": `moby "v20.10x" is not a version`,
	} {
		if _, err := Parse([]string{arg}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want %q", arg, err, want)
		}
	}
}

// TestInstallBuildsFromTheModuleProxy builds a small real module the way
// the daemons are built: downloaded through the proxy, compiled in its own
// directory, stamped; installing again keeps it; a binary replaced after
// the install is not taken for the release.
func TestInstallBuildsFromTheModuleProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads and builds a module")
	}
	t.Setenv(EnvBin, t.TempDir())
	r := Release{
		Component: "hello", Version: "v1", Module: "golang.org/x/example/hello", ModVersion: "v0.0.0-20250915201037-7f05d217867b",
		Binaries: []Binary{{"hello", "."}}, LDFlags: []string{"-X main.unused=v1"},
	}
	if err := r.Installed(); err == nil || !strings.Contains(err.Error(), "hello v1 is not installed") ||
		!strings.Contains(err.Error(), "go run github.com/matrixbox/matrixbox/cmd/matrixbox install hello@v1") {
		t.Fatalf("before: Installed() = %v", err)
	}
	var log bytes.Buffer
	in := &Installer{Log: &log}
	if err := in.Install(context.Background(), r); err != nil {
		t.Fatalf("Install: %v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "hello v1 built from golang.org/x/example/hello") {
		t.Errorf("log does not say what was built:\n%s", log.String())
	}
	out, err := exec.Command(r.Path("hello")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Hello") {
		t.Fatalf("the built hello: %v %s", err, out)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(r.Dir()), ".build-*")); len(leftovers) > 0 {
		t.Errorf("build directories left: %v", leftovers)
	}

	log.Reset()
	if err := in.Install(context.Background(), r); err != nil || !strings.Contains(log.String(), "hello v1 is installed") {
		t.Errorf("second Install: %v\n%s", err, log.String())
	}

	// Another binary in its place is not the release.
	if err := os.WriteFile(r.Path("hello"), []byte("#!/bin/sh\necho impostor\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := r.Installed(); err == nil {
		t.Error("a replaced binary passes for the release")
	}
	// Nor is a binary of the same module stamped with other flags.
	other := r
	other.LDFlags = []string{"-X main.unused=v2"}
	if err := in.Install(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	if err := r.Installed(); err == nil || !strings.Contains(err.Error(), "not built by matrixbox install from golang.org/x/example/hello") {
		t.Errorf("a build with other -ldflags passes for the release: %v", err)
	}
}
