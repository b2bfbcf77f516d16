// Package matrix expands test axes into cells.
//
// An [Axis] is a named list of [Value]s; [Expand] takes the cartesian product
// of axes in the order they were declared and returns [Cell]s whose names,
// like "worker=host/color=red/size=l", are stable from run to run. A
// [Selector] keeps the cells a MATRIXBOX_SELECT expression names and
// [Selector.Explain] says why one keeps none; [Assign] deals a group's cases
// round n CI shards, evenly; [DetectShard] reads which [Shard] a job is
// from the variables of Bazel, GitLab CI, CircleCI or Buildkite; and
// exclusions drop combinations that must never run together.
//
// This package is pure: it starts no process and opens no connection.
// The packages under it are not: each is a typed axis with the domain kit
// its tests need, and may run commands and pull images.
// matrix/platform (OCI platforms) probes what this machine can execute and
// can turn emulation off for a test (WithoutEmulation);
// matrix/distro (Linux distributions) runs install commands in a cell and
// has its images put in a mirror by the function the caller passes
// (Require); matrix/qemuimg (qemu-img versions) runs qemu-img and compares
// what different versions print. They sit under matrix because their
// values are axis values; none of them is imported by this package.
package matrix
