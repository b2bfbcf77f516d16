package box

import (
	"github.com/matrixbox/matrixbox/internal/sandboxstate"
	"github.com/matrixbox/matrixbox/sandbox"
)

// LogMark is how much of each buffer of a [sandbox.Logs] was already shown.
type LogMark map[string]int

// Mark returns the current length of every buffer of logs, for
// [StringSince].
func Mark(logs *sandbox.Logs) LogMark { return sandboxstate.LogsMark(logs) }

// StringSince formats, as logs.String does, only what was written after
// m: a case's logs printed while its daemon is still up, then what the
// daemon said while it stopped.
func StringSince(logs *sandbox.Logs, m LogMark) string {
	return sandboxstate.LogsSince(logs, m)
}
