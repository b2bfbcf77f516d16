package packages

import (
	"fmt"
	"strings"

	"github.com/matrixbox/matrixbox/matrix/distro"
)

// Example shows the command each cell installs the package file with, and
// the glibc each Debian release ships (what CanRun holds a binary's floor
// against).
func Example() {
	for _, id := range distros[:3] {
		d, _ := distro.Lookup(id)
		fmt.Printf("%s (glibc %s): %s\n", id, d.Glibc, strings.Join(d.InstallFile("/work/mbx-hello-glibc.deb"), " "))
	}
	// Output:
	// debian-11 (glibc 2.31): env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /work/mbx-hello-glibc.deb
	// debian-12 (glibc 2.36): env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /work/mbx-hello-glibc.deb
	// debian-13 (glibc 2.41): env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /work/mbx-hello-glibc.deb
}
