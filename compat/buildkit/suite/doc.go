// Package suite runs BuildKit's own integration suites (frontend/dockerfile
// and client, of BuildKit v0.34.2, the version table's default, or another
// release such as v0.28.0) on matrixbox through the compat layer and, side
// by side, on BuildKit's own harness, on the same machine, daemons and
// images, and compares the outcomes case by case.
//
// Nothing of BuildKit's is kept: [Prepare] copies the suites out of the Go
// module cache into a temporary module that requires that BuildKit (and
// matrixbox, whose own go.mod may require an older one), rewriting only
// their two harness imports ([Rewrite]). The client tests are internal
// tests of github.com/moby/buildkit/client, which matrixbox's workers
// import, so they cannot import the compat layer in place (an import
// cycle); the copy is the whole package under another import path, which
// can. BuildKit's harness runs the unmodified packages from the same
// module, with the daemons of matrixbox's version table first on PATH
// ([DaemonPath]; the extra containerd versions as
// BUILDKIT_INTEGRATION_CONTAINERD_EXTRA, [ContainerdExtra]) and a mirror
// directory seeded from matrixbox's mirror ([SeedBuildkitMirror]), so it
// copies no image. The images matrixbox cannot have offline get the same
// stand-in on both ([StandIns]) unless a run asks for none.
//
// The test TestBuildkitSuite is the runner: MATRIXBOX_BUILDKIT_SUITE=1 runs
// the whole of both suites on both harnesses (make buildkit-suite, hours),
// MATRIXBOX_BUILDKIT_SUITE=slice a fixed slice that passes on both, on
// matrixbox only, with no stand-in (make buildkit-slice, part of make
// test).
package suite
