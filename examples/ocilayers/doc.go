// Package ocilayers is the OCI image builder scenario (seed 003, Yocto
// meta-virtualization's multi-layer OCI class): an image of three layers
// (base, shell, app) made natively in Go from files and Debian packages,
// a single-layer variant, a base+app variant built on a stored base image,
// and a layer cache keyed on (layer name, sorted package list, package
// versions, architecture) that logs "OCI Cache HIT" and "OCI Cache MISS".
// Run it with
//
//	go test ./examples/ocilayers -v
//
// The shell layer unpacks Debian's busybox-static, fetched with apt-get
// download; a machine where apt cannot fetch it skips those tests and says
// so.
package ocilayers
