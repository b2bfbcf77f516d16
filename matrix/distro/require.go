package distro

import (
	"context"
	"testing"
	"time"
)

// Sandbox is what Require needs of a sandbox; sandbox.Sandbox has it.
type Sandbox interface {
	Valuer
	Name() string
	Context() context.Context
}

// EnsureFunc makes images (target name → source) available, as the shared
// mirror's Ensure does: Require(t, sb, mirror.Shared().Ensure).
type EnsureFunc func(ctx context.Context, images map[string]string) error

// remoteTimeout bounds the wait for a registry image, which fails fast
// where no registry is reachable but may hang on a half-open network.
const remoteTimeout = time.Minute

// Require returns the cell's distro once its image is available through
// ensure, so that a worker that runs commands in the cell's image (the
// containerd worker) can pull it. The image comes from the distro's offline
// recipe with packages preinstalled where it has one, else from its
// registry. A registry image that cannot be had skips the cell with a reason
// naming the image; a recipe that fails to build fails the cell. Each cell
// asks for its own image only, so -run and MATRIXBOX_SELECT never build the
// images of cells that do not run.
func Require(t testing.TB, sb Sandbox, ensure EnsureFunc, packages ...string) Distro {
	t.Helper()
	d := From(sb)
	if d.IsZero() {
		t.Fatalf("cell %s has no %s axis", sb.Name(), AxisName)
	}
	ctx := sb.Context()
	if d.Recipe() == "" {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, remoteTimeout)
		defer cancel()
	}
	src := d.Source(packages...)
	start := time.Now()
	err := ensure(ctx, map[string]string{d.ImageRef(): src})
	switch {
	case err != nil && d.Recipe() == "":
		t.Skipf("%s: image %s is not reachable here: %v", d.ID, d.ImageRef(), err)
	case err != nil:
		t.Fatalf("%s: image %s from %s: %v", d.ID, d.ImageRef(), src, err)
	}
	t.Logf("%s: image %s from %s available after %s", d.ID, d.ImageRef(), src, time.Since(start).Round(time.Millisecond))
	return d
}
