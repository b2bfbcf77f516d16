package sandbox

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
)

// envGuardFor, when set to a pid, turns this process into the guard of that
// test process; see StartGuard.
const envGuardFor = "MATRIXBOX_GUARD_FOR"

// guardFD is the guard's end of the pipe whose other end only the test
// process holds.
const guardFD = 3

var (
	guardOnce sync.Once
	guardErr  error
	// guardPipe is the test process's end of the pipe to its guard. It is
	// never closed, nor collected: the kernel closes it when the process
	// ends, however it ends, and the guard reads end-of-file.
	guardPipe *os.File
)

// StartGuard starts, once per test process, a guard: a copy of this binary
// that waits for the test process to end and then removes whatever it left
// — the cgroups of its sandboxes with every process in them, processes
// carrying its MATRIXBOX_OWNER, mounts, DirPrefix<pid>-* directories and
// the network bridges of its daemons. A
// test process that ends normally has cleaned up already and the guard
// finds nothing; one that ends by os.Exit, a panic, go test's -timeout,
// SIGINT, SIGTERM or SIGKILL runs no cleanup of its own, and the guard does
// it and says so on stderr.
//
// The guard learns of the end from a pipe, not a signal: the test process
// holds the only write end, so the guard reads end-of-file when it ends,
// even if it ended before the guard was running.
func StartGuard() error {
	guardOnce.Do(func() { guardErr = startGuard() })
	return guardErr
}

func startGuard() error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("start guard: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("start guard: %w", err)
	}
	defer r.Close()
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envGuardFor+"="+strconv.Itoa(os.Getpid()))
	cmd.ExtraFiles = []*os.File{r} // guardFD in the guard
	cmd.Stderr = os.Stderr
	setGuardAttrs(cmd)
	if err := cmd.Start(); err != nil {
		w.Close()
		return fmt.Errorf("start guard: %w", err)
	}
	guardPipe = w
	// Reaped by the runtime when it exits; nothing waits for it otherwise.
	go func() { _ = cmd.Wait() }()
	return nil
}

func init() {
	v := os.Getenv(envGuardFor)
	if v == "" {
		return
	}
	parent, err := strconv.Atoi(v)
	if err != nil || parent <= 1 {
		fmt.Fprintf(os.Stderr, "matrixbox guard: bad %s=%q\n", envGuardFor, v)
		os.Exit(2)
	}
	runGuard(parent, os.NewFile(guardFD, "matrixbox-guard-pipe"))
	os.Exit(0)
}
