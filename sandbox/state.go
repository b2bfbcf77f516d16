package sandbox

import (
	"path/filepath"

	"github.com/matrixbox/matrixbox/internal/sandboxstate"
	"github.com/matrixbox/matrixbox/internal/supervise"
)

// The harness (internal/box) sets a backend's cgroup, marker and daemons,
// and marks how much of a case's logs it has shown, through sandboxstate:
// Config and Logs keep them unexported, out of a worker's and a test's
// reach.
func init() {
	sandboxstate.Prepare = func(c any, dir string, group *supervise.Group) sandboxstate.Daemons {
		cfg := c.(*Config)
		cfg.group, cfg.marker = group, dir
		cfg.daemons = newDaemons(cfg.Dir, filepath.Join(dir, supervise.DaemonsRecord), cfg.Logs)
		return cfg.daemons
	}
	sandboxstate.LogsMark = func(l any) map[string]int { return l.(*Logs).mark() }
	sandboxstate.LogsSince = func(l any, m map[string]int) string { return l.(*Logs).stringSince(m) }
}
