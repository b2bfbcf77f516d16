package testkit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Self is the running test binary, to run it again as a child process
// (with -test.run naming the test that acts as the child).
func Self() string { return os.Args[0] }

// GoCommand returns the go command on PATH, and skips t where there is
// none.
func GoCommand(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		t.Skip("needs the go command on PATH")
	}
	return p
}

// CompileTest compiles the tests of the package in dir (relative to the
// working directory, or absolute) into the binary out, with go test -c;
// the error carries go's output. It is for a TestMain, which has no t; a
// test calls [BuildTest].
func CompileTest(dir, out string) error {
	if msg, err := exec.Command("go", "test", "-c", "-o", out, dir).CombinedOutput(); err != nil {
		return fmt.Errorf("go test -c %s: %v\n%s", dir, err, msg)
	}
	return nil
}

// BuildTest compiles the tests of the package in dir (relative to the
// working directory, or absolute) into a binary <package dir>.test in a
// temporary directory of t, and returns its path; a failed build fails t.
func BuildTest(t testing.TB, dir string) string {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), filepath.Base(abs)+".test")
	if err := CompileTest(abs, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// Environ is this process's environment without the variables whose name
// drop reports (nil: none), for a child that must not see them.
func Environ(drop func(name string) bool) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if drop != nil && drop(name) {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// MatrixboxVar reports whether name is one of matrixbox's variables
// (MATRIXBOX_…): with [Environ], the environment of a child that sees only
// what its test gives it.
func MatrixboxVar(name string) bool { return strings.HasPrefix(name, "MATRIXBOX_") }

// Run runs cmd to its end and returns its output (stdout and stderr as
// they came) and whether it exited with status 0. A command that did not
// run at all (no such binary) fails t; a non-zero exit is the caller's to
// judge.
func Run(t testing.TB, cmd *exec.Cmd) (string, bool) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run %s: %v", cmd.Path, err)
	}
	return string(out), err == nil
}

// A Child is a command started by [Start].
type Child struct {
	Cmd *exec.Cmd
	out Buffer
}

// Start starts cmd in a process group of its own (so that a signal to the
// group reaches what the child started, and nothing else), with its
// stdout and stderr into one buffer that can be read while it runs. A child
// that has not been waited for when t ends is killed with its group and
// waited for. A cmd.SysProcAttr set by the caller is kept, with Setpgid.
func Start(t testing.TB, cmd *exec.Cmd) *Child {
	t.Helper()
	c := &Child{Cmd: cmd}
	cmd.Stdout, cmd.Stderr = &c.out, &c.out
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
		}
	})
	return c
}

// Pid is the child's process id (and its group's).
func (c *Child) Pid() int { return c.Cmd.Process.Pid }

// Output is what the child has written so far.
func (c *Child) Output() string { return c.out.String() }

// Wait waits for the child to end and returns its whole output and the
// error of exec.Cmd.Wait (an *exec.ExitError for a non-zero exit).
func (c *Child) Wait() (string, error) {
	err := c.Cmd.Wait()
	return c.out.String(), err
}

// WaitEnded is Wait for a child that has been told to end, and will end
// well within limit unless it hangs: one that is still there after limit
// is sent SIGQUIT, so that a Go child prints its goroutines' stacks, and t
// fails with its output, saying it did not end after what.
func (c *Child) WaitEnded(t testing.TB, limit time.Duration, what string) (string, error) {
	t.Helper()
	type result struct {
		out string
		err error
	}
	waited := make(chan result, 1)
	go func() {
		out, err := c.Wait()
		waited <- result{out, err}
	}()
	select {
	case r := <-waited:
		return r.out, r.err
	case <-time.After(limit):
		_ = syscall.Kill(c.Pid(), syscall.SIGQUIT)
		r := <-waited
		t.Fatalf("the child did not end %s after %s:\n%s", limit, what, r.out)
		return r.out, r.err
	}
}

// Buffer is a bytes.Buffer that one goroutine may write while another
// reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Tail is the last n bytes of s, marked as cut where it is: the end of a
// long output, where a failing run says why.
func Tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
