// Package sandboxstate is how internal/box reaches the part of a
// sandbox.Config that only the harness sets (the backend's cgroup, its
// sandbox marker, its daemons), which a worker must neither set nor see:
// package sandbox fills in Prepare when it is initialised.
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
