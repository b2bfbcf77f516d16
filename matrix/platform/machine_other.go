//go:build !linux

package platform

import "runtime"

// thisMachine on other systems has no /proc: only the platform it was built
// for counts as native, and nothing is emulated.
func thisMachine() machine {
	return machine{root: "/nonexistent", os: runtime.GOOS, arch: runtime.GOARCH}
}
