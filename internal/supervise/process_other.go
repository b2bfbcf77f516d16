//go:build !linux

package supervise

import (
	"os"
	"os/exec"
)

func SetProcessGroup(*exec.Cmd) {}
func SignalGroup(int, bool)     {}
func KillGroup(int)             {}
func GroupAlive(int) bool       { return false }
func ExitedUnreaped(int) bool   { return false }

func groupMembers(int) []int { return nil }

// Proc is a running process found by a scan of /proc.
type Proc struct {
	Pid     int
	Cmdline string
}

// ProcessesWithEnv finds processes by an environment entry; none off Linux.
func ProcessesWithEnv(key, value string) []Proc { return nil }

type envProc struct {
	Proc
	value string
	mine  bool
}

func processesWithEnvKey(string) []envProc { return nil }

func KillMarked(string) []Proc { return nil }

func processStart(int) (uint64, bool) { return 0, false }

func fileUID(os.FileInfo) (int, bool) { return 0, false }
