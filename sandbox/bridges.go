package sandbox

import (
	"errors"
	"fmt"

	"github.com/matrixbox/matrixbox/internal/bridge"
)

// removeBridges deletes the network bridges made for daemons (a dockerd's
// default network) whose owning test process satisfies dead, telling say
// (keyed by the sandbox directory's name) a line per bridge.
func removeBridges(dead func(owner int) bool, say func(name, line string)) error {
	var errs []error
	for name, o := range bridge.Owned() {
		if !dead(o.PID) {
			continue
		}
		if err := bridge.Delete(name); err != nil {
			errs = append(errs, err)
			continue
		}
		say(o.Sandbox, fmt.Sprintf("network bridge %s of test process %d", name, o.PID))
	}
	return errors.Join(errs...)
}
