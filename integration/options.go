package integration

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/internal/compatopt"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
)

// Option configures a Run.
type Option func(*config)

type config struct {
	workers     []sandbox.Worker
	axes        []matrix.Axis
	excludes    []string
	images      map[string]string
	parallelism int
	mirror      Mirror
	// workerAxes are values matrixbox.yaml gives axes of the workers'
	// own (their daemons' versions), by axis.
	workerAxes map[string][]matrix.Value
	// logRefusals: compatopt.LogRefusals.
	logRefusals bool
	errs        []error
}

func init() {
	compatopt.LogRefusals = Option(func(c *config) { c.logRefusals = true })
}

// WithWorkers runs on ws instead of the host worker.
func WithWorkers(ws ...sandbox.Worker) Option {
	return func(c *config) { c.workers = append(c.workers, ws...) }
}

// WithAxes adds axes in the order given: matrix.Strings("size", "s", "l"),
// matrix.FromMap for values of any type, or a typed axis
// (platform.Axis, distro.Axis), whose error the caller checks first.
func WithAxes(axes ...matrix.Axis) Option {
	return func(c *config) { c.axes = append(c.axes, axes...) }
}

// WithExclude drops the cells matching a selection expression, e.g.
// "worker=dockerd,platform=linux-arm64": combinations that must never run.
func WithExclude(exprs ...string) Option {
	return func(c *config) { c.excludes = append(c.excludes, exprs...) }
}

// WithMirroredImages asks for images (target name → source) to be present in
// the shared mirror before any case starts.
func WithMirroredImages(images map[string]string) Option {
	return func(c *config) {
		if c.images == nil {
			c.images = map[string]string{}
		}
		for k, v := range images {
			c.images[k] = v
		}
	}
}

// WithParallelism bounds the sandboxes of this Run alive at once, within the
// process-wide bound of MATRIXBOX_PARALLEL.
func WithParallelism(n int) Option {
	return func(c *config) {
		if n < 1 {
			c.errs = append(c.errs, fmt.Errorf("WithParallelism(%d): want at least 1", n))
			return
		}
		c.parallelism = n
	}
}

// Mirror is what Run needs of a registry mirror. Package mirror satisfies it
// without importing this package: integration.WithMirror(mirror.Shared()).
type Mirror interface {
	// Start makes the mirror serve (once; later calls return the same
	// address) and returns its host:port.
	Start(ctx context.Context) (string, error)
	// Ensure makes images (target name → source) present in the mirror.
	Ensure(ctx context.Context, images map[string]string) error
	// NewRegistry starts a private, empty registry keeping its data under
	// dir and logging to log; stop shuts it down.
	NewRegistry(ctx context.Context, dir string, log io.Writer) (addr string, stop func() error, err error)
}

// DamageReporter is an optional interface of a Mirror that checks each blob
// before serving it and refuses a damaged one (package mirror's does). A
// daemon whose pull was refused fails with an error that names no cause
// ("unexpected commit digest", "unexpected status … 500"); Run adds the
// mirror's account to the failing case's log.
type DamageReporter interface {
	// DamagedSince describes the blobs refused as damaged at or after t.
	DamagedSince(t time.Time) []string
}

// RefusalReporter is an optional interface of a Mirror that serves only
// the images the test process declared (package mirror's does): an image
// no Run asked for with WithMirroredImages, present in a mirror directory
// only because another suite copied it there, is refused. A daemon then
// falls back to the image's own registry, which succeeds only where that
// registry can be reached, so Run fails on every refusal during it, on
// every machine alike (a Run of the compat layer logs it instead), and
// names the refused images in a failing case's log.
type RefusalReporter interface {
	// RefusedSince describes, once each, the images refused at or after t.
	RefusedSince(t time.Time) []string
}

// HostLister is an optional interface of a Mirror that says which
// registries it serves images of (package mirror's does), once its images
// are ensured. Run configures each daemon to pull from every one of them
// through the mirror ([sandbox.Config] MirrorHosts); a Mirror without it
// leaves the daemons' default, docker.io alone.
type HostLister interface {
	// Hosts are the registry hosts, e.g. "docker.io", "ghcr.io".
	Hosts() []string
}

// nameMirrorRefusals logs, for a failed case, what the mirror refused
// since the case began: damaged blobs, images no Run declared.
func nameMirrorRefusals(t *testing.T, m Mirror, since time.Time) {
	if !t.Failed() {
		return
	}
	if d, ok := m.(DamageReporter); ok {
		for _, s := range d.DamagedSince(since) {
			t.Logf("matrixbox: %s", s)
		}
	}
	if r, ok := m.(RefusalReporter); ok {
		for _, s := range r.RefusedSince(since) {
			t.Logf("matrixbox: the mirror refused %s", s)
		}
	}
}

// WithMirror serves this Run's images and registries from m, started on
// the Run's first case: integration.WithMirror(mirror.Shared()). A Run
// without it has no mirror. Close a private m with t.Cleanup, not defer:
// Run's cases run in parallel after the calling test function has
// returned.
func WithMirror(m Mirror) Option {
	return func(c *config) { c.mirror = m }
}

type onceValue[T any] struct {
	once sync.Once
	v    T
	err  error
}

func (o *onceValue[T]) get(f func() (T, error)) (T, error) {
	o.once.Do(func() { o.v, o.err = f() })
	return o.v, o.err
}
