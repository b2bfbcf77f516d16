package qemuimg

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/matrix/distro"
	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/sandbox"
)

// distros are the cells: three Debian releases the mirror builds offline,
// and two distros only a registry has.
var distros = []string{"debian-11", "debian-12", "debian-13", "ubuntu-24.04", "fedora-42"}

func TestMain(m *testing.M) {
	// A matrixbox.yaml may name distros by id.
	integration.RegisterAxisDecoder(distro.AxisName, distro.DecodeValue)
	integration.UseMirror(mirror.Shared())
	code := m.Run()
	if err := mirror.Shared().Close(); err != nil {
		fmt.Fprintln(os.Stderr, "close mirror:", err)
		code = max(code, 1)
	}
	os.Exit(code)
}

// imageSource is where the mirror takes d's image from. examples/packages
// asks for the same source, so that one image per distro serves both.
func imageSource(d distro.Distro) string { return d.Source(d.QemuImgPackage()) }

// cellDistro returns the cell's distro once its image is in the mirror,
// where the containerd worker pulls it from (on the cell's first sb.Cmd).
// A distro whose image only a registry has skips the cell when that
// registry cannot be reached, naming the image; a recipe that fails to
// build fails the cell.
func cellDistro(t *testing.T, sb sandbox.Sandbox) distro.Distro {
	t.Helper()
	d := distro.From(sb)
	if d.IsZero() {
		t.Fatalf("cell %s has no distro", sb.Name())
	}
	ctx := sb.Context()
	if d.Recipe() == "" {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Minute)
		defer cancel()
	}
	start := time.Now()
	err := mirror.Shared().Ensure(ctx, map[string]string{d.ImageRef(): imageSource(d)})
	switch {
	case err != nil && d.Recipe() == "":
		t.Skipf("%s: image %s is not reachable here: %v", d.ID, d.ImageRef(), err)
	case err != nil:
		t.Fatalf("%s: image %s: %v", d.ID, d.ImageRef(), err)
	}
	t.Logf("%s: image %s from %s in the mirror after %s", d.ID, d.ImageRef(), imageSource(d), time.Since(start).Round(time.Millisecond))
	return d
}
