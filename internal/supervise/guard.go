package supervise

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// envGuardFor, in the environment of a guard, names the test process it
// guards and the proof of its pipe: "<pid>.<start>:<sha256 of the nonce
// in hex>"; see StartGuard.
const envGuardFor = "MATRIXBOX_GUARD_FOR"

// guardFD is the guard's end of the pipe whose other end only the test
// process holds.
const guardFD = 3

// nonceLen is the size of the nonce the test process writes into the
// guard's pipe, well under the size the kernel writes at once (PIPE_BUF).
const nonceLen = 32

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
// carrying its MATRIXBOX_OWNER, mounts, dirPrefix<owner>-* directories and
// the network bridges of its daemons. A
// test process that ends normally has cleaned up already and the guard
// finds nothing; one that ends by os.Exit, a panic, go test's -timeout,
// SIGINT, SIGTERM or SIGKILL runs no cleanup of its own, and the guard does
// it and says so on stderr.
//
// The guard learns of the end from a pipe, not a signal: the test process
// holds the only write end, so the guard reads end-of-file when it ends,
// even if it ended before the guard was running.
//
// A guard acts only for the test process that started it, and only once
// that process has ended: the test process writes a random nonce into the
// pipe, and the guard's environment carries the nonce's hash beside the
// test process's pid and start time. A process given MATRIXBOX_GUARD_FOR
// by hand, whose descriptor 3 is not that pipe, refuses to be a guard and
// says so; a guard whose test process still runs when the pipe closes
// removes nothing.
func StartGuard() error {
	guardOnce.Do(func() { guardErr = startGuard() })
	return guardErr
}

func startGuard() error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("start guard: %w", err)
	}
	nonce := make([]byte, nonceLen)
	if _, err := rand.Read(nonce); err != nil {
		return fmt.Errorf("start guard: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("start guard: %w", err)
	}
	defer r.Close()
	// In the pipe before the guard starts: only the holders of its ends,
	// this process and the guard, can read it.
	if _, err := w.Write(nonce); err != nil {
		w.Close()
		return fmt.Errorf("start guard: %w", err)
	}
	sum := sha256.Sum256(nonce)
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envGuardFor+"="+selfOwner().String()+":"+hex.EncodeToString(sum[:]))
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

// parseGuardFor reads envGuardFor's value: the test process and the hash
// of the nonce in its pipe.
func parseGuardFor(v string) (owner, []byte, error) {
	id, proof, _ := strings.Cut(v, ":")
	o, ok := parseOwner(id)
	if !ok || o.pid <= 1 {
		return owner{}, nil, fmt.Errorf("%q names no test process (<pid>.<start>)", id)
	}
	sum, err := hex.DecodeString(proof)
	if err != nil || len(sum) != sha256.Size {
		return owner{}, nil, errors.New("it carries no proof of a guard's pipe (the hash of the nonce in it)")
	}
	return o, sum, nil
}

func init() {
	v, ok := os.LookupEnv(envGuardFor)
	if !ok {
		return
	}
	parent, proof, err := parseGuardFor(v)
	var pipe *os.File
	if err == nil {
		pipe, err = openGuardPipe(guardFD, proof)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "matrixbox: %s=%q: this process was not started as a guard by its test process (%v); it removes nothing and exits. Only a test process starts its guard: do not set %s.\n",
			envGuardFor, v, err, envGuardFor)
		os.Exit(2)
	}
	runGuard(parent, pipe)
	os.Exit(0)
}
