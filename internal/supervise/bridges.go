package supervise

import (
	"errors"
	"fmt"

	"github.com/matrixbox/matrixbox/internal/bridge"
)

// removeBridges deletes the network bridges made for daemons (a dockerd's
// default network) whose owning test process satisfies dead, telling say
// (keyed by the sandbox directory's name) a line per bridge. The owner is
// the one the sandbox's name carries, with its start time, when it names
// the bridge's pid.
func removeBridges(dead func(o owner) bool, say func(name, line string)) error {
	var errs []error
	for name, o := range bridge.Owned() {
		id := owner{pid: o.PID}
		if sb, ok := dirOwner(o.Sandbox); ok && sb.pid == o.PID {
			id = sb
		}
		if !dead(id) {
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
