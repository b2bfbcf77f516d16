// Package packages is the install smoke of seed 001: a .deb built in the
// test (dpkg-deb on the host) is installed in each distro cell with the
// catalog's own command (apt-get install ./x.deb) and run there, on the
// containerd worker, whose sb.Cmd runs inside the cell's distro image.
//
// Two packages are made: one holding a static hello (Go, CGO_ENABLED=0),
// which must install and run everywhere, and one holding a hello that the
// host's gcc links against the host's glibc, so that it needs GLIBC_2.34
// (__libc_start_main) and declares no Depends: the packaging mistake seed
// 001 wants caught. distro.CanRun reads its glibc floor from the ELF file
// and says it cannot run on Debian 11 (glibc 2.31); the cell must agree:
// it fails there with the loader's GLIBC message, and runs on 12 and 13.
//
//	go run github.com/matrixbox/matrixbox/cmd/matrixbox install   # as root: containerd, runc
//	apt-get install debootstrap dpkg-dev gcc                        # the images and the .debs
//	go test ./examples/packages -v
//
// The Debian images come from the mirror's offline debootstrap recipe (the
// same ones examples/qemuimg uses); the Ubuntu 24.04 and Fedora 42 cells
// need a registry and skip, naming the image, where none is reachable.
package packages
