package integration

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// raiseDefault ends the process with sig as the signal's default action
// does, whatever disposition the process started with. signal.Reset alone
// is not enough: it gives SIGINT and SIGHUP back the disposition the
// process inherited, and a shell without job control (a script's
// `cmd &`) starts its background jobs with SIGINT ignored; the raised
// SIGINT was then dropped, and a kept case's run never ended.
func raiseDefault(sig os.Signal) error {
	s, ok := sig.(syscall.Signal)
	if !ok {
		return fmt.Errorf("%v is not a signal of this system", sig)
	}
	signal.Reset(s)
	// The kernel's struct sigaction, all zero, is SIG_DFL with no flags and
	// an empty mask whatever the architecture's layout. The size of the
	// kernel's signal set is 8 bytes but on MIPS (16).
	var act [64]byte
	var errno syscall.Errno
	for _, setSize := range []uintptr{8, 16} {
		if _, _, errno = unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(s), uintptr(unsafe.Pointer(&act)), 0, setSize, 0, 0); errno != unix.EINVAL {
			break
		}
	}
	if errno != 0 {
		return fmt.Errorf("restore the default action of %v: %w", s, errno)
	}
	return unix.Kill(os.Getpid(), s)
}
