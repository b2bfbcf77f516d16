// Package matrix expands test axes into cells.
//
// An [Axis] is a named list of [Value]s; [Expand] takes the cartesian product
// of axes in the order they were declared and returns [Cell]s whose names,
// like "worker=host/color=red/size=l", are stable from run to run. A
// [Selector] keeps the cells a MATRIXBOX_SELECT expression names, a [Shard]
// keeps the cases whose stable hash falls in one of n CI shards, and
// exclusions drop combinations that must never run together.
//
// The package is pure: it starts no process and opens no connection.
package matrix
