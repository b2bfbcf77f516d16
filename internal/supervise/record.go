package supervise

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DaemonsRecord is the file, in a backend's directory (beside the worker's
// "b"), that lists its daemons, a line "<pid>.<start> <name>" each: the
// guard and the reaper name them (a daemon dies with its test process, by
// its parent-death signal, before either runs) and kill any that lives on.
const DaemonsRecord = "daemons"

// RecordDaemon appends the daemon pid called name to the record file.
func RecordDaemon(record string, pid int, name string) error {
	o := owner{pid: pid}
	o.start, _ = processStart(o.pid)
	f, err := os.OpenFile(record, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "%s %s\n", o, name)
	return errors.Join(err, f.Close())
}

// recordedDaemons reads the record of the backend directory dir.
func recordedDaemons(dir string) []recordedDaemon {
	b, err := os.ReadFile(filepath.Join(dir, DaemonsRecord))
	if err != nil {
		return nil
	}
	var out []recordedDaemon
	for _, l := range strings.Split(string(b), "\n") {
		id, name, ok := strings.Cut(l, " ")
		if o, valid := parseOwner(id); ok && valid {
			out = append(out, recordedDaemon{o, name})
		}
	}
	return out
}

type recordedDaemon struct {
	owner
	name string
}
