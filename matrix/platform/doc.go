// Package platform is the typed "platform" axis: OCI platforms such as
// linux/amd64, linux/arm64 and linux/amd64/v3, and what this machine can do
// with each.
//
// [Axis] turns platform strings into a matrix axis whose value names fit in a
// subtest name ("linux-amd64-v3"); a string that does not parse, or names an
// operating system, architecture or variant nobody knows, is an error naming
// it. [From] reads the cell's platform back from a sandbox. [DecodeValue]
// does for one config-file value what Axis does for the code's; the
// integration package may not import this one, so the suite gives it to Main:
//
//	integration.Main(m, integration.WithAxisDecoder(platform.AxisName, platform.DecodeValue))
//
// [Native] says whether this machine executes a platform's code itself (same
// architecture, and for amd64 variants the CPU flags the level needs),
// [Emulated] whether a binfmt_misc handler (such as Debian's qemu-user-static)
// is registered and enabled for it, and [Runnable] which of the two applies or
// what is missing. [RequireNative] and [RequireRunnable] skip a test with that
// reason.
//
// [WithoutEmulation] switches a platform's binfmt_misc handlers off for the
// length of a test (root only), to prove that something works with
// emulation absent; [LockBinfmt] keeps tests that rely on the emulation
// state from running in that window, across processes.
package platform
