// Package platform is the platform-selection scenario of a BuildKit
// frontend (dalec's seed 000): prove that a build for linux/arm64 picks the
// arm64 image without running any arm64 code, so that it passes on an
// amd64 machine with no QEMU at all.
//
// For each cell of platform (linux/amd64, linux/arm64) × {buildkitd-oci,
// buildkitd-containerd}, the tests make a marker index from the mirrored
// busybox (recipe:busybox, linux/amd64+arm64) with image.MarkerIndex, where
// each platform's manifest carries /platform-marker naming that platform,
// and hand it to BuildKit by both routes:
//
//   - SolveOpt.OCIStores plus the named context
//     context:base=oci-layout://<store>@<digest> (Dockerfile "FROM base");
//   - a source policy converting docker-image://docker.io/library/busybox*
//     to the oci-layout image (Dockerfile "FROM busybox", and llb.Image with
//     workers.LLBPlatform).
//
// Each solve exports its result and checks that the marker, and the ELF
// machine of /bin/busybox, match the requested platform. There is no RUN
// step, so nothing of the foreign architecture executes. TestNoEmulation
// runs the same marker tests with arm64 emulation switched off
// (platform.WithoutEmulation, root only; buildkitd starts after it) and
// checks both that BuildKit then does not list linux/arm64 and that an
// arm64 RUN fails: the marker tests do not depend on emulation.
//
// TestRunCommand really runs `uname -m` for each platform, natively or
// under binfmt_misc emulation (Debian's qemu-user-static), skipping with
// the reason (the missing package) where the machine cannot;
// TestTargetArgs checks that TARGETPLATFORM, TARGETARCH and TARGETVARIANT
// reach a Dockerfile built for linux/amd64/v3 (skipped on CPUs without the
// x86-64-v3 flags). TestBadPlatform checks that a platform string that does
// not parse, in the code or in matrixbox.yaml, fails Run naming it.
//
//	sudo scripts/install-tools.sh   # buildkitd, containerd, runc
//	go test ./examples/platform -v
package platform
