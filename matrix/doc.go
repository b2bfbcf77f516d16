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
// The package is pure: it starts no process and opens no connection.
package matrix
