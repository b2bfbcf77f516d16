// Package buildkit runs the same BuildKit solve tests on buildkitd with the
// OCI (runc) worker, buildkitd with the containerd worker, dockerd on the
// current moby (29.8.1) and on Debian's 20.10, and dockerd with the
// containerd image store, with no per-worker code: package buildkittest
// connects to sb.Address() (for dockerd, a socket that forwards to its
// BuildKit), solves LLB and Dockerfiles, exports the result into a
// directory and checks it with CheckDir. RUN steps use the default
// network, which each private dockerd has as a bridge of its own.
//
//	go run github.com/matrixbox/matrixbox/cmd/matrixbox install   # as root: buildkitd, containerd 2, dockerd, runc
//	go test ./examples/buildkit -v
//
// A worker whose binaries are missing skips its cells with the install
// hint. busybox is pulled by every daemon through the shared registry
// mirror, which makes it offline from Debian's busybox (recipe:busybox).
package buildkit
