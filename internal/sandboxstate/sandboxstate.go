// Package sandboxstate is how internal/box reaches what package sandbox
// keeps from workers and tests: the part of a sandbox.Config that only the
// harness sets (the backend's cgroup, its sandbox marker, its daemons) and
// the marks of a sandbox.Logs. Package sandbox fills in these functions
// when it is initialised.
package sandboxstate

import "github.com/matrixbox/matrixbox/internal/supervise"

// Daemons are the processes a backend's worker started with
// sandbox.Config.Start, watched from their start to the backend's stop.
type Daemons interface {
	// Died is closed when a daemon ended before the backend was stopped;
	// Death says which and how.
	Died() <-chan struct{}
	Death() string
	// Stop marks the backend as stopping; when a daemon died already, it
	// stops the others.
	Stop()
	// CloseNS ends the daemons' mount namespace once they have stopped.
	CloseNS()
}

// Prepare readies cfg, a *sandbox.Config whose Dir and Logs are set, for
// a backend whose directory is dir and whose cgroup is group (nil for
// none), and returns its daemons. Set by package sandbox.
var Prepare func(cfg any, dir string, group *supervise.Group) Daemons

// LogsMark returns the current length of every buffer of logs, a
// *sandbox.Logs; LogsSince formats, as its String does, only what was
// written after such a mark. Set by package sandbox.
var (
	LogsMark  func(logs any) map[string]int
	LogsSince func(logs any, mark map[string]int) string
)
