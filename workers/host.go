package workers

import (
	"github.com/matrixbox/matrixbox/internal/hostworker"
	"github.com/matrixbox/matrixbox/sandbox"
)

// Host returns the worker named "host": no daemon, commands run on the host
// in the sandbox's temp dir with the cell's values in the environment
// (MATRIXBOX_CELL, MATRIXBOX_AXIS_<NAME>). A Run given no worker runs on it.
func Host() sandbox.Worker { return hostworker.New() }
