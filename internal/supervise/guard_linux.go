package supervise

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func setGuardAttrs(cmd *exec.Cmd) {
	// Its own process group keeps a terminal's Ctrl-C from reaching it
	// while the test process still cleans up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// openGuardPipe proves that descriptor fd is the pipe a test process made
// for its guard: a pipe that holds, already, the nonce whose sha256 is
// proof. The read does not wait: a pipe with nothing in it is not the one.
func openGuardPipe(fd int, proof []byte) (*os.File, error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("descriptor %d: %w", fd, err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
		return nil, fmt.Errorf("descriptor %d is not a pipe", fd)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		return nil, fmt.Errorf("descriptor %d: %w", fd, err)
	}
	nonce := make([]byte, nonceLen)
	n, err := syscall.Read(fd, nonce)
	if err != nil || n != nonceLen {
		return nil, fmt.Errorf("descriptor %d holds no nonce (read %d bytes: %v)", fd, max(n, 0), err)
	}
	if sum := sha256.Sum256(nonce); !bytes.Equal(sum[:], proof) {
		return nil, errors.New("the nonce in its pipe does not match the proof")
	}
	if err := syscall.SetNonblock(fd, false); err != nil {
		return nil, fmt.Errorf("descriptor %d: %w", fd, err)
	}
	return os.NewFile(uintptr(fd), "matrixbox-guard-pipe"), nil
}

// exitWait bounds the wait, after the guard's pipe closed, for its test
// process to be gone: one that still runs then closed the pipe some other
// way, and the guard does nothing.
const exitWait = 2 * time.Second

func runGuard(parent owner, pipe *os.File) {
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	// Nothing more is written: the read returns when the test process,
	// the only writer, has ended.
	_, _ = io.Copy(io.Discard, pipe)
	// An exiting process closes its files a moment before it ends.
	for deadline := time.Now().Add(exitWait); parent.running() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if parent.running() {
		fmt.Fprintf(os.Stderr, "matrixbox: the guard of test process %d: its pipe closed while the process still runs; nothing removed\n", parent.pid)
		return
	}
	// An entry that names the pid alone is the parent's only while no
	// process has that pid: one that has it now is another.
	recycled := pidAlive(parent.pid)
	mine := func(o owner) bool {
		return o.pid == parent.pid && (o.start == parent.start || o.start == 0 && !recycled)
	}
	removed, _, err := removeOwned(defaultScope(), mine, true)
	if len(removed) > 0 {
		fmt.Fprintf(os.Stderr, "matrixbox: test process %d ended without cleaning up (os.Exit, panic, -timeout or signal); its guard removed:\n  %s\n",
			parent.pid, strings.Join(removed, "\n  "))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "matrixbox: the guard of test process %d could not remove everything: %v\n", parent.pid, err)
	}
}
