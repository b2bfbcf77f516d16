// Package platform is the platform-selection scenario of a BuildKit
// frontend (dalec's seed 000): prove that a build for linux/arm64 picks the
// arm64 image without running any arm64 code, so that it passes on an
// amd64 machine with no QEMU at all.
//
// For each cell of platform (linux/amd64, linux/arm64, linux/amd64/v3) ×
// {buildkitd-oci, buildkitd-containerd, dockerd on moby 29.8.1 and 20.10,
// dockerd-containerd}, TestMarker makes, with
// buildkittest.NewMarkerStore, a marker index from the mirrored busybox
// (recipe:busybox, linux/amd64+arm64), where each platform's manifest
// carries /platform-marker naming that platform (linux/amd64/v3's is made
// from amd64, as BuildKit falls back), and hands it to BuildKit by both
// routes:
//
//   - a named context (SolveOpt.OCIStores plus
//     context:base=oci-layout://<store>@<digest>, Dockerfile "FROM base");
//   - a source policy converting docker-image://docker.io/library/busybox*
//     to the oci-layout image (Dockerfile "FROM busybox", and llb.Image).
//
// Each solve exports its result and MarkerStore.Check checks that the
// marker, and the ELF machine of /bin/busybox, match the cell's platform.
// There is no RUN step, so nothing of the foreign architecture executes.
// The tests declare the features they need (integration.Requires):
// dockerd with the classic image store has no oci-layout stores, and 20.10
// no source policies either, so their cells are skipped, naming the
// feature, before they start; dockerd-containerd, dockerd with the
// containerd image store, runs them. TestNoEmulation runs the same marker
// tests with arm64 emulation switched off (platform.WithoutEmulation, root
// only; buildkitd starts after it) and checks both that BuildKit then does
// not list linux/arm64 and that an arm64 RUN fails: the marker tests do
// not depend on emulation.
//
// TestRunCommand really runs `uname -m` for each platform, natively or
// under binfmt_misc emulation (Debian's qemu-user-static), skipping with
// the reason (the missing package) where the machine cannot;
// TestTargetArgs checks that TARGETPLATFORM, TARGETARCH and TARGETVARIANT
// reach a Dockerfile built for linux/amd64/v3 (skipped on CPUs without the
// x86-64-v3 flags, and on dockerd 20.10, which has no variants).
// TestBadPlatform checks that a platform string that does not parse, in
// the code or in matrixbox.yaml, fails Run naming it.
//
//	go run github.com/matrixbox/matrixbox/cmd/matrixbox install   # as root: buildkitd, containerd, runc
//	go test ./examples/platform -v
package platform
