//go:build !linux

package mirror

import "syscall"

// reusePort does nothing where SO_REUSEPORT is not known to us: a fixed
// port then serves one process at a time.
func reusePort(_, _ string, _ syscall.RawConn) error { return nil }
