// Package buildkit runs the same BuildKit solve tests on three backends:
// buildkitd with the OCI (runc) worker, buildkitd with the containerd
// worker, and dockerd, whose embedded BuildKit the client reaches through
// the /grpc and /session endpoints of the Docker API.
//
//	sudo scripts/install-tools.sh   # buildkitd, containerd 2, dockerd, runc
//	go test ./examples/buildkit -v
//
// A worker whose binaries are missing skips its cells with the install
// hint. Tests that need the busybox image take it from an OCI layout the
// client hands to BuildKit (SolveOpt.OCIStores), so no registry is needed;
// a backend that lacks the feature (dockerd 20.10's BuildKit) is skipped
// with the reason, the feature being declared here by the caller.
package buildkit
