//go:build !linux

package supervise

// MountsUnder lists the mount points at or below dir; none off Linux.
func MountsUnder(string) []string { return nil }

func DetachMountsUnder(string) []string { return nil }
