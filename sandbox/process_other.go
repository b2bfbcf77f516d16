//go:build !linux

package sandbox

import (
	"os"
	"os/exec"
)

func setProcessGroup(*exec.Cmd) {}
func signalGroup(int, bool)     {}
func killGroup(int)             {}
func groupAlive(int) bool       { return false }
func exitedUnreaped(int) bool   { return false }

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

func killMarked(string) []Proc { return nil }

func processStart(int) (uint64, bool) { return 0, false }

func fileUID(os.FileInfo) (int, bool) { return 0, false }
