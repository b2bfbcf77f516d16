//go:build !linux

package workers

func killProcessesUsing(string) []string { return nil }
func unmountUnder(string) []string       { return nil }
