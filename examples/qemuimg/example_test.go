package qemuimg

import (
	"fmt"

	"github.com/matrixbox/matrixbox/matrix/distro"
)

// Example shows where each cell's image comes from: the Debian releases
// from the mirror's offline recipe, with qemu-utils in them; the others
// from their registry.
func Example() {
	for _, id := range distros {
		d, _ := distro.Lookup(id)
		fmt.Printf("%s: %s <- %s\n", id, d.ImageRef(), d.Source("qemu-utils"))
	}
	// Output:
	// debian-11: docker.io/library/debian:bullseye <- recipe:debian:11?packages=qemu-utils
	// debian-12: docker.io/library/debian:bookworm <- recipe:debian:12?packages=qemu-utils
	// debian-13: docker.io/library/debian:trixie <- recipe:debian:13?packages=qemu-utils
	// ubuntu-24.04: docker.io/library/ubuntu:24.04 <- docker.io/library/ubuntu:24.04
	// fedora-42: docker.io/library/fedora:42 <- docker.io/library/fedora:42
}
