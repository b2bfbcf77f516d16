package testkit

import (
	"fmt"
	"os"
	"strings"
)

// StatLine is /proc/<pid>/stat, or why it cannot be read: the state a
// wait for a process saw last.
func StatLine(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// Alive reports whether pid runs: it exists, and not as a zombie (a
// zombie has exited; only its parent's wait is missing).
func Alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(b))
	return len(fields) > 2 && fields[2] != "Z"
}
