package workers

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"golang.org/x/mod/semver"

	"github.com/matrixbox/matrixbox/internal/daemons"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
)

// The axes of the daemons' versions. A worker that starts a daemon has an
// axis of its own per versioned daemon, right after the worker in its
// cells' names: "worker=buildkitd-containerd/buildkit=v0.34.2/containerd=v2.4.2".
// Its values are the versions [WithVersions] or matrixbox.yaml's axes
// name, else the default of each (`matrixbox install -list` lists them);
// select them like any axis (MATRIXBOX_SELECT=buildkit=v0.28.*).
const (
	// BuildkitAxis holds buildkitd's version, on [BuildkitdOCI] and
	// [BuildkitdContainerd].
	BuildkitAxis = daemons.BuildKit
	// ContainerdAxis holds containerd's version, on [Containerd] and
	// [BuildkitdContainerd].
	ContainerdAxis = daemons.Containerd
	// MobyAxis holds dockerd's version, on [Dockerd] and
	// [DockerdContainerd].
	MobyAxis = daemons.Moby
)

// components are the versioned daemons of each constructor's workers, the
// one WithBinary replaces first.
var components = map[string][]string{
	ctorBuildkitdOCI:        {daemons.BuildKit},
	ctorBuildkitdContainerd: {daemons.BuildKit, daemons.Containerd},
	ctorContainerd:          {daemons.Containerd},
	ctorDockerd:             {daemons.Moby},
	ctorDockerdContainerd:   {daemons.Moby},
}

// WithVersions runs the worker's cells on each of versions of one of its
// daemons, axis being [BuildkitAxis], [ContainerdAxis] or [MobyAxis]:
//
//	workers.BuildkitdOCI(workers.WithVersions(workers.BuildkitAxis, "v0.34.2", "v0.28.0"))
//
// gives the cells worker=buildkitd-oci/buildkit=v0.34.2 and
// worker=buildkitd-oci/buildkit=v0.28.0. A version not installed skips its
// cells with the command that installs it (fails them in strict mode); one
// matrixbox does not support fails them, listing those it does. For the
// workers that start their daemon.
func WithVersions(axis string, versions ...string) Option {
	return option("WithVersions", func(o *options) {
		if o.versions == nil {
			o.versions = map[string][]string{}
		}
		o.versions[axis] = append(o.versions[axis], versions...)
	})
}

// MinVersion is the feature, for integration.Requires, of the cells whose
// daemon on axis is at least min: integration.Requires(workers.MinVersion(
// workers.BuildkitAxis, "v0.30.0")) skips, before their daemon starts, the
// cells of an older buildkitd, and those of a dockerd whose BuildKit is
// older. A worker that has no such daemon (the host, containerd for
// "buildkit") lacks it.
func MinVersion(axis, min string) string { return axis + ">=" + min }

// versions are the daemon versions of a worker: the axes it offers and,
// once At has pinned a cell's, the release of each daemon.
type versions struct {
	ctor string
	// given are WithVersions', by axis.
	given map[string][]string
	// given says WithBinary replaced the first component's daemon,
	// whose version is then not known.
	binaryGiven bool
	// pinned are the releases of the cell At was given; a component not
	// pinned runs its default release.
	pinned map[string]daemons.Release
	// err is a version of the cell that the table does not know, or an
	// axis given to WithVersions that the worker lacks.
	err error
}

func newVersions(ctor string, o options) versions {
	v := versions{ctor: ctor, given: o.versions, binaryGiven: o.binary != ""}
	comps := v.components()
	for _, axis := range slices.Sorted(maps.Keys(o.versions)) {
		switch {
		case !slices.Contains(components[ctor], axis):
			v.err = fmt.Errorf("%w: workers.WithVersions(%q): worker %q (workers.%s) has no such daemon; its axes are %s",
				sandbox.ErrMisconfigured, axis, o.name, ctor, strings.Join(components[ctor], ", "))
		case !slices.Contains(comps, axis):
			v.err = fmt.Errorf("%w: workers.WithVersions(%q) and workers.WithBinary: the binary given is the %s daemon, whose version matrixbox does not choose",
				sandbox.ErrMisconfigured, axis, axis)
		case len(o.versions[axis]) == 0:
			v.err = fmt.Errorf("%w: workers.WithVersions(%q) names no version", sandbox.ErrMisconfigured, axis)
		}
	}
	return v
}

// components are the worker's daemons whose versions it chooses.
func (v versions) components() []string {
	c := components[v.ctor]
	if v.binaryGiven {
		return c[1:]
	}
	return c
}

// axes are the worker's own axes: one per daemon whose version it
// chooses and that is not pinned yet, with the versions given, else the
// default.
func (v versions) axes() []matrix.Axis {
	var out []matrix.Axis
	for _, c := range v.components() {
		if _, pinned := v.pinned[c]; pinned {
			continue
		}
		vs := v.given[c]
		if len(vs) == 0 {
			vs = []string{daemons.Default(c).Version}
		}
		out = append(out, matrix.Strings(c, vs...))
	}
	return out
}

// pin returns v for the versions of cell c; those pinned before stay.
func (v versions) pin(c matrix.Cell) versions {
	v.pinned = maps.Clone(v.pinned)
	if v.pinned == nil {
		v.pinned = map[string]daemons.Release{}
	}
	var errs []error
	for _, comp := range v.components() {
		ver, _ := c.Value(comp).(string)
		if ver == "" {
			continue
		}
		r, err := daemons.Lookup(comp, ver)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		v.pinned[comp] = r
	}
	if len(errs) > 0 && v.err == nil {
		v.err = fmt.Errorf("%w: %w", sandbox.ErrMisconfigured, errors.Join(errs...))
	}
	return v
}

// release is the release of component the worker runs.
func (v versions) release(component string) daemons.Release {
	if r, ok := v.pinned[component]; ok {
		return r
	}
	return daemons.Default(component)
}

// check says why the worker cannot run: a version it does not know, or
// one that is not installed (with the command that installs it).
func (v versions) check() error {
	if v.err != nil {
		return v.err
	}
	var errs []error
	for _, c := range v.components() {
		if err := v.release(c).Installed(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// binary is the path of name, a program of component's release the
// worker runs.
func (v versions) binary(component, name string) (string, error) {
	r := v.release(component)
	if err := r.Installed(); err != nil {
		return "", err
	}
	return r.Path(name), nil
}

// supportsVersion answers a MinVersion feature ("buildkit>=v0.30.0"):
// ok says feature is one. A dockerd answers for "buildkit" with the
// BuildKit inside it.
func (v versions) supportsVersion(feature string) (has, ok bool) {
	axis, min, ok := strings.Cut(feature, ">=")
	if !ok || !slices.Contains(daemons.Components(), axis) {
		return false, false
	}
	var have string
	switch {
	case slices.Contains(v.components(), axis):
		have = v.release(axis).Version
	case axis == daemons.BuildKit && slices.Contains(v.components(), daemons.Moby):
		have = v.release(daemons.Moby).BuildKit
	}
	return have != "" && semver.IsValid(have) && semver.Compare(have, min) >= 0, true
}

// describe names the pinned versions, "buildkit=v0.34.2, containerd=v2.4.2".
func (v versions) describe() string {
	var parts []string
	for _, c := range v.components() {
		parts = append(parts, c+"="+v.release(c).Version)
	}
	return strings.Join(parts, ", ")
}

// local is what the workers that start their own daemons share: their
// options and the releases of their daemons.
type local struct {
	opts     options
	versions versions
}

func newLocal(ctor string, o options) local { return local{opts: o, versions: newVersions(ctor, o)} }

func (w *local) Name() string { return w.opts.name }

// Axes are the worker's own axes, one a daemon it runs (buildkit,
// containerd, moby: [sandbox.Versioned]); none for a daemon WithBinary
// gave.
func (w *local) Axes() []matrix.Axis { return w.versions.axes() }

// Supports reports whether the worker has feature, before any backend
// starts: one of the Feature* its daemon has or one given to
// WithFeatures, or a MinVersion its versions meet. (The dockerd worker
// answers the first from its dockerd's version and image store.)
func (w *local) Supports(feature string) bool {
	if has, ok := w.versions.supportsVersion(feature); ok {
		return has
	}
	return w.opts.supports(feature)
}

// daemon is the path of the daemon called name that the worker runs:
// WithBinary's, else that of the cell's release of component.
func (w *local) daemon(component, name string) (string, error) {
	if w.opts.binary != "" {
		return lookBinary(w.opts.binary)
	}
	return w.versions.binary(component, name)
}
