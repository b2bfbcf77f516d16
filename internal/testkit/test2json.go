package testkit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os/exec"
	"testing"
	"time"
)

// JSONCommand returns the command that runs the test binary bin as
// go test -json does: go tool test2json over bin run with
// -test.v=test2json, then args. Read its stdout with [Events].
func JSONCommand(t testing.TB, bin string, args ...string) *exec.Cmd {
	t.Helper()
	return exec.Command(GoCommand(t), append([]string{"tool", "test2json", "-t", bin, "-test.v=test2json"}, args...)...)
}

// An Event is one line of a test2json stream (go doc test2json).
type Event struct {
	Time    time.Time
	Action  string // start, run, pause, cont, pass, bench, fail, output, skip, attr
	Package string
	Test    string
	Elapsed float64 // seconds
	Output  string
	Key     string // of an attr event (t.Attr)
	Value   string
}

// Events parses a test2json stream; a line that is not an event (what a
// test wrote to the process's stderr) is passed over.
func Events(stream []byte) []Event {
	var evs []Event
	sc := bufio.NewScanner(bytes.NewReader(stream))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var ev Event
		if json.Unmarshal(sc.Bytes(), &ev) == nil {
			evs = append(evs, ev)
		}
	}
	return evs
}
