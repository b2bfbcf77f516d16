// Package integration is a drop-in for util/testutil/integration of
// BuildKit v0.34.2 and v0.28.0 (whose harness APIs differ only in what
// BuildKit's own workers use), built on matrixbox: a suite written for
// BuildKit's harness moves over by changing its two imports,
//
//	"github.com/moby/buildkit/util/testutil/integration" → "github.com/matrixbox/matrixbox/compat/buildkit/integration"
//	"github.com/moby/buildkit/util/testutil/workers"     → "github.com/matrixbox/matrixbox/compat/buildkit/workers"
//
// and runs unchanged, under the same subtest names
// (TestIntegration/TestCopy/worker=oci/frontend=builtin), so filters such
// as -run '//worker=oci$' stay as they were. It gains what matrixbox gives
// every suite: the same order on every run, the daemon's logs printed only
// for a failing case, every cleanup error and leaked process or mount
// reported, MATRIXBOX_SELECT, MATRIXBOX_SHARD, reports and the watchdog.
//
// The layer only translates. [Run] calls matrixbox's integration.Run with
// the workers registered by the workers package (matrixbox's buildkitd-oci,
// buildkitd-containerd and dockerd workers under the names of BuildKit's
// CI: "oci", "containerd", "containerd-1.7", "dockerd", …, each on one
// version of its daemons, so that no version axis of matrixbox's enters
// the names), one axis per [WithMatrix] key (sorted, as
// BuildKit names them), and the images of [WithMirroredImages] in
// matrixbox's shared mirror. A matrix value that is a [ConfigUpdater]
// changes the buildkitd.toml of its cells ([BuildkitdConfig]). The
// [Sandbox] handed to each test adapts matrixbox's: Address is the
// BuildKit address, Cmd runs buildctl, CDISpecDir is the buildkitd's CDI
// spec directory, Supports answers from the features the worker declares.
//
// Images: [OfficialImages] names Docker Hub's images as BuildKit's harness
// does, except busybox:latest, busybox:stable-musl and alpine:latest, which
// the mirror builds offline (recipe:busybox, recipe:busybox?libc=musl,
// recipe:alpine). Any other image that cannot be had offline can be given
// a stand-in with MATRIXBOX_COMPAT_STANDINS
// ("tonistiigi/hellofs:latest=recipe:busybox"); each Run logs the stand-ins
// it uses. Without one, an image that cannot be copied fails the cases of
// its Run, naming the image and that variable. A pull of an image no Run
// declared, which the mirror refuses, is logged at the Run's end and fails
// only the case that needed it, as in BuildKit's harness (matrixbox's own
// Run fails on it): BuildKit's suites ask the registry for images they
// built into the worker's own store, and the worker then finds them there.
//
// Isolation: MATRIXBOX_COMPAT_ISOLATION=fresh (default: a new daemon per
// case, as in BuildKit), reset (a warm daemon per worker and cell, wiped
// and proven empty between cases) or shared (one warm daemon per worker and
// cell, for suites that leave the daemon's state alone).
//
// The helpers BuildKit's test helpers call with sb.Logs() are here with
// BuildKit's signatures: [FormatLogs], [PrintLogs], [RunCmd], [StartCmd],
// [WaitSocket], [LookupBinary] and [MultiCloser] (whose F returns every
// cleanup error, not the first).
//
// The rootless workers (oci-rootless, containerd-rootless) run as the
// user `matrixbox install` makes, not as BUILDKIT_INTEGRATION_ROOTLESS_IDPAIR
// names; a test named NoRootless skips there.
//
// What BuildKit's harness has and this layer does not: the
// alternative-snapshotter and detached-netns workers, the slice= test filter (use
// MATRIXBOX_SHARD), the buildkitd debug socket (matrixbox's watchdog prints
// every goroutine's stack instead), and the Worker, BackendConfig,
// Register-a-Worker, List, Mirror, NewRegistry, WriteConfig and
// RootlessSupported plumbing that only BuildKit's own workers use; the
// workers package's worker types (OCI, Containerd, Moby) likewise.
package integration
