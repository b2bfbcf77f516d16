//go:build !linux

package sandbox

import "os/exec"

func setProcessGroup(*exec.Cmd) {}
func signalGroup(int, bool)     {}
func killGroup(int)             {}
func groupAlive(int) bool       { return false }

// GroupMembers returns the running members of a process group; none off Linux.
func GroupMembers(int) []int { return nil }
