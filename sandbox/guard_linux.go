package sandbox

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
)

func setGuardAttrs(cmd *exec.Cmd) {
	// Its own process group keeps a terminal's Ctrl-C from reaching it
	// while the test process still cleans up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func runGuard(parent int, pipe *os.File) {
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	// Nothing is ever written: the read returns when the test process,
	// the only writer, has ended.
	_, _ = io.Copy(io.Discard, pipe)
	removed, err := removeOwned(defaultScope(), func(owner int) bool { return owner == parent }, true)
	if len(removed) > 0 {
		fmt.Fprintf(os.Stderr, "matrixbox: test process %d ended without cleaning up (os.Exit, panic, -timeout or signal); its guard removed:\n  %s\n",
			parent, strings.Join(removed, "\n  "))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "matrixbox: the guard of test process %d could not remove everything: %v\n", parent, err)
	}
}
