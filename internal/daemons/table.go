package daemons

import (
	"fmt"
	"slices"
	"strings"
)

// Components: the names of the version axes (a cell of the buildkitd-oci
// worker is "worker=buildkitd-oci/buildkit=v0.34.2") and of the
// directories under the bin directory.
const (
	BuildKit   = "buildkit"
	Containerd = "containerd"
	Moby       = "moby"
	// Runc is the OCI runtime every daemon runs containers with; it is no
	// axis: every cell runs the default.
	Runc = "runc"
	// Registry is distribution's registry, which BuildKit's own harness
	// runs; it is no axis of any worker.
	Registry = "registry"
)

// Sets a release belongs to: what `matrixbox install` installs without
// arguments (and make test), or only with "all".
const (
	SetDefault = "default"
	SetAll     = "all"
)

// Release is one version of a component and how it is had.
type Release struct {
	Component string
	// Version is the release's value on its component's axis: "v0.34.2".
	Version string
	// Default marks the version a worker runs when its code and
	// matrixbox.yaml name none; one per component.
	Default bool
	// Set is SetDefault or SetAll.
	Set string
	// Built from the Go module proxy: Module at ModVersion, each of
	// Binaries built from its package (relative to the module root) with
	// LDFlags, after Replace (requirement → served version) when the
	// module's own requirements cannot all be had.
	Module, ModVersion string
	Binaries           []Binary
	LDFlags            []string
	Replace            map[string]string
	// CGO builds with cgo (and the C toolchain), Tags are build tags,
	// and BuildPackages the distribution packages the build needs.
	CGO           bool
	Tags          []string
	BuildPackages []string
	// From the distribution instead: Package names the Debian/Ubuntu
	// package, and Binaries' Package fields are absolute paths.
	Package string
	// BuildKit is the BuildKit version inside: the release itself for
	// buildkit, the one moby vendors for moby.
	BuildKit string
	// Containerd is, for moby, the version of the containerd its dockerd
	// runs on ("" for the default containerd).
	Containerd string
	// Note says in a word what the release is for, in `matrixbox install
	// -list` and unknown-version errors.
	Note string
}

// Binary is one program of a release: its name and the package it is built
// from (or, for a distribution package, its absolute path).
type Binary struct{ Name, Package string }

// Table is every release matrixbox supports, newest first per component.
// The defaults are the newest releases the Go module proxy serves whose
// whole requirement graph it serves.
var Table = []Release{
	{
		Component: BuildKit, Version: "v0.34.2", Default: true, Set: SetDefault,
		Module: "github.com/moby/buildkit", ModVersion: "v0.34.2",
		Binaries: buildkitBinaries, LDFlags: []string{"-X github.com/moby/buildkit/version.Version=v0.34.2"},
		BuildKit: "v0.34.2", Note: "newest",
	},
	{
		Component: BuildKit, Version: "v0.28.0", Set: SetDefault,
		Module: "github.com/moby/buildkit", ModVersion: "v0.28.0",
		Binaries: buildkitBinaries, LDFlags: []string{"-X github.com/moby/buildkit/version.Version=v0.28.0"},
		BuildKit: "v0.28.0", Note: "early 2026",
	},
	{
		Component: BuildKit, Version: "v0.26.3", Set: SetAll,
		Module: "github.com/moby/buildkit", ModVersion: "v0.26.3",
		Binaries: buildkitBinaries, LDFlags: []string{"-X github.com/moby/buildkit/version.Version=v0.26.3"},
		BuildKit: "v0.26.3", Note: "Docker 29.1's",
	},
	{
		Component: Containerd, Version: "v2.4.2", Default: true, Set: SetDefault,
		Module: "github.com/containerd/containerd/v2", ModVersion: "v2.4.2",
		Binaries: containerdBinaries, LDFlags: []string{"-X github.com/containerd/containerd/v2/version.Version=v2.4.2"},
		Note: "newest",
	},
	{
		Component: Containerd, Version: "v2.2.1", Set: SetAll,
		Module: "github.com/containerd/containerd/v2", ModVersion: "v2.2.1",
		Binaries: containerdBinaries, LDFlags: []string{"-X github.com/containerd/containerd/v2/version.Version=v2.2.1"},
		Note: "early 2026",
	},
	{
		Component: Containerd, Version: "v1.7.35", Set: SetAll,
		Module: "github.com/containerd/containerd", ModVersion: "v1.7.35",
		Binaries: containerdBinaries, LDFlags: []string{"-X github.com/containerd/containerd/version.Version=v1.7.35"},
		Note: "BuildKit's CI containerd-1.7",
	},
	{
		Component: Containerd, Version: "v1.6", Set: SetDefault, Package: "containerd",
		Binaries: []Binary{{"containerd", "/usr/bin/containerd"}, {"containerd-shim-runc-v2", "/usr/bin/containerd-shim-runc-v2"}},
		Note:     "Debian 12's",
	},
	{
		// moby/v2 v2.0.0-beta.25 requires five modules at versions the
		// proxy refuses (403): a BuildKit release candidate, for which its
		// release; the policy-helpers that release requires (which the
		// module graph selects anyway); and, for swarmkit, extensions and
		// the AppArmor profiles, the versions beta.24 requires (beta.25's
		// code uses them as beta.24's does).
		Component: Moby, Version: "v29.9.0", Set: SetAll,
		Module: "github.com/moby/moby/v2", ModVersion: "v2.0.0-beta.25",
		Binaries: []Binary{{"dockerd", "cmd/dockerd"}, {"docker-proxy", "cmd/docker-proxy"}},
		LDFlags: []string{
			"-X github.com/moby/moby/v2/dockerversion.Version=29.9.0",
			"-X github.com/moby/moby/v2/dockerversion.GitCommit=v2.0.0-beta.25",
			"-X github.com/moby/moby/v2/dockerversion.PlatformName=matrixbox",
			// dockerd reports a replaced BuildKit's version as unknown.
			"-X github.com/moby/buildkit/version.Version=v0.34.0",
		},
		Replace: map[string]string{
			"github.com/moby/buildkit":          "github.com/moby/buildkit@v0.34.0",
			"github.com/moby/policy-helpers":    "github.com/moby/policy-helpers@v0.0.0-20261006174519-bd98f4747414",
			"github.com/moby/swarmkit/v2":       "github.com/moby/swarmkit/v2@v2.1.3-0.20260828175525-ad0357aedfca",
			"github.com/moby/extensions":        "github.com/moby/extensions@v0.0.0-20260909112015-86305e92aa39",
			"github.com/moby/profiles/apparmor": "github.com/moby/profiles/apparmor@v0.2.2-0.20260828104831-61eaf32614c7",
		},
		BuildKit: "v0.34.0", Note: "newest, five requirements replaced",
	},
	{
		Component: Moby, Version: "v29.8.1", Default: true, Set: SetDefault,
		Module: "github.com/moby/moby/v2", ModVersion: "v2.0.0-beta.24",
		Binaries: []Binary{{"dockerd", "cmd/dockerd"}, {"docker-proxy", "cmd/docker-proxy"}},
		LDFlags: []string{
			"-X github.com/moby/moby/v2/dockerversion.Version=29.8.1",
			"-X github.com/moby/moby/v2/dockerversion.GitCommit=v2.0.0-beta.24",
			"-X github.com/moby/moby/v2/dockerversion.PlatformName=matrixbox",
		},
		BuildKit: "v0.33.0", Note: "newest whose requirements the proxy serves",
	},
	{
		Component: Moby, Version: "v20.10", Set: SetDefault, Package: "docker.io",
		Binaries: []Binary{{"dockerd", "/usr/sbin/dockerd"}},
		BuildKit: "v0.8.2", Containerd: "v1.6", Note: "Debian 12's, on Debian's containerd",
	},
	{
		// moby 29 asks runc for a time namespace, which Debian 12's runc
		// 1.1 does not know; every daemon runs this one.
		Component: Runc, Version: "v1.5.3", Default: true, Set: SetDefault,
		Module: "github.com/opencontainers/runc", ModVersion: "v1.5.3",
		Binaries: []Binary{{"runc", "."}}, LDFlags: []string{"-X main.gitCommit=v1.5.3"},
		CGO: true, Tags: []string{"seccomp", "urfave_cli_no_docs"}, BuildPackages: []string{"gcc", "libc6-dev", "libseccomp-dev", "pkg-config"},
		Note: "with seccomp; Debian 12's is 1.1",
	},
	{
		Component: Registry, Version: "v3.1.2", Default: true, Set: SetDefault,
		Module: "github.com/distribution/distribution/v3", ModVersion: "v3.1.2",
		Binaries: []Binary{{"registry", "cmd/registry"}},
		LDFlags:  []string{"-X github.com/distribution/distribution/v3/version.version=v3.1.2"},
		Note:     "for BuildKit's own harness",
	},
}

var (
	buildkitBinaries   = []Binary{{"buildkitd", "cmd/buildkitd"}, {"buildctl", "cmd/buildctl"}}
	containerdBinaries = []Binary{{"containerd", "cmd/containerd"}, {"containerd-shim-runc-v2", "cmd/containerd-shim-runc-v2"}}
)

// Built says whether the release is built from a Go module (else it comes
// from a distribution package).
func (r Release) Built() bool { return r.Module != "" }

// ID is "component@version", as `matrixbox install` takes it.
func (r Release) ID() string { return r.Component + "@" + r.Version }

// Lookup returns the release of component at version; its error lists the
// versions there are.
func Lookup(component, version string) (Release, error) {
	var known []string
	for _, r := range Table {
		if r.Component != component {
			continue
		}
		if r.Version == version {
			return r, nil
		}
		known = append(known, r.Version)
	}
	if len(known) == 0 {
		return Release{}, fmt.Errorf("no component %q (there are %s)", component, strings.Join(Components(), ", "))
	}
	return Release{}, fmt.Errorf("%s %q is not a version matrixbox supports; it supports %s", component, version, strings.Join(known, ", "))
}

// Default is the default release of component.
func Default(component string) Release {
	for _, r := range Table {
		if r.Component == component && r.Default {
			return r
		}
	}
	panic("daemons: no default release of " + component)
}

// Versions are the versions of component, newest first.
func Versions(component string) []string {
	var out []string
	for _, r := range Table {
		if r.Component == component {
			out = append(out, r.Version)
		}
	}
	return out
}

// Components are the components of the table, in its order.
func Components() []string {
	var out []string
	for _, r := range Table {
		if !slices.Contains(out, r.Component) {
			out = append(out, r.Component)
		}
	}
	return out
}

// ContainerdRelease is the containerd release a moby release's dockerd
// runs on: its Containerd, else the default containerd.
func (r Release) ContainerdRelease() Release {
	if r.Containerd == "" {
		return Default(Containerd)
	}
	c, err := Lookup(Containerd, r.Containerd)
	if err != nil {
		panic("daemons: " + r.ID() + ": " + err.Error())
	}
	return c
}

// InSet returns the releases of set: SetDefault, or SetAll for all of them.
func InSet(set string) []Release {
	var out []Release
	for _, r := range Table {
		if set == SetAll || r.Set == set {
			out = append(out, r)
		}
	}
	return out
}
