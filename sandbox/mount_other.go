//go:build !linux

package sandbox

// MountsUnder lists the mount points at or below dir; none off Linux.
func MountsUnder(string) []string { return nil }

func detachMountsUnder(string) []string { return nil }
