// Package qemuimg is the disk-image tool scenario of seed 001 (instar's
// multi-distro qemu-img differential plan): the same test runs inside
// Debian 11, 12 and 13 on the containerd worker, so against the qemu-img
// each release ships (5.2, 7.2, 10.0). In each cell it makes raw, qcow2
// (plain, compressed, with a backing file), vmdk and vhdx images with that
// qemu-img, and holds `qemu-img info --output=json` and `qemu-img map
// --output=json` against baselines recorded by this example under
// testdata/<version>/: its own profile's exactly (modulo paths and sizes),
// every other profile's through matrix/qemuimg's policy (gated fields
// skipped with a message naming both versions). It also asserts the
// capability gates against what each version really prints.
//
//	go run github.com/matrixbox/matrixbox/cmd/matrixbox install   # as root: containerd, runc
//	apt-get install debootstrap                                      # the images
//	go test ./examples/qemuimg -v
//	go test ./examples/qemuimg -update   # re-record testdata/<version>/
//
// The Debian images are built offline by the mirror's debootstrap recipe
// (recipe:debian:N?packages=qemu-utils) the first time, then reused from
// the mirror directory. Ubuntu 24.04 and Fedora 42 cells need their images
// from a registry; where none is reachable they skip, naming the image.
package qemuimg
