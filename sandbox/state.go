package sandbox

import (
	"path/filepath"

	"github.com/matrixbox/matrixbox/internal/sandboxstate"
	"github.com/matrixbox/matrixbox/internal/supervise"
)

// The harness (internal/box) sets a backend's cgroup, marker and daemons
// through sandboxstate: Config keeps them unexported, out of a worker's
// reach.
func init() {
	sandboxstate.Prepare = func(c any, dir string, group *supervise.Group) sandboxstate.Daemons {
		cfg := c.(*Config)
		cfg.group, cfg.marker = group, dir
		cfg.daemons = newDaemons(cfg.Dir, filepath.Join(dir, supervise.DaemonsRecord), cfg.Logs)
		return cfg.daemons
	}
}
