package packages

import (
	"os"
	"testing"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/matrix/distro"
	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/sandbox"
)

// distros are the cells: three Debian releases the mirror builds offline,
// and two distros only a registry has.
var distros = []string{"debian-11", "debian-12", "debian-13", "ubuntu-24.04", "fedora-42"}

// TestMain lets matrixbox.yaml name distros by id, then stops the warm
// backends after the tests.
func TestMain(m *testing.M) {
	os.Exit(integration.Main(m, integration.WithAxisDecoder(distro.AxisName, distro.DecodeValue)))
}

// cellDistro returns the cell's distro once its image is in the mirror.
// Both distro examples ask for the images with qemu-utils preinstalled, so
// one image per distro serves both.
func cellDistro(t *testing.T, sb sandbox.Sandbox) distro.Distro {
	t.Helper()
	return distro.Require(t, sb, mirror.Shared().Ensure, "qemu-utils")
}
