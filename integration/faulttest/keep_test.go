package faulttest

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer is read while the child writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startKept runs the real fixture's failing case on buildkitd-oci with env
// (MATRIXBOX_KEEP and friends); its output can be read while it runs.
func startKept(t *testing.T, env []string, args ...string) (*realChild, *lockedBuffer) {
	t.Helper()
	bin := buildReal(t)
	dir := t.TempDir()
	tok := strconv.Itoa(100000 + rand.IntN(800000))
	cmd := exec.Command(bin, append([]string{"-test.v", "-test.count=1", "-test.run=^TestInFlight$"}, args...)...)
	cmd.Env = append(os.Environ(), "FAULT=fail", "FAULT_DIR="+dir, "FAULT_TOKEN="+tok,
		"MATRIXBOX_SELECT=worker=buildkitd-oci", "MATRIXBOX_CONFIG=none")
	cmd.Env = append(cmd.Env, env...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	rc := &realChild{child: &child{cmd: cmd, out: &bytes.Buffer{}, dir: dir}, token: tok, rules: iptablesRules()}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
		}
	})
	return rc, out
}

// waitOutput waits until the child's output matches re, or the child ends.
func waitOutput(t *testing.T, out *lockedBuffer, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the child never printed %q:\n%s", re, out)
	return nil
}

var attachLine = regexp.MustCompile(`(?m)^  attach +(\S*buildctl --addr \S+ debug workers)$`)

// MATRIXBOX_KEEP=failed keeps a failing case's buildkitd up: the printed
// buildctl line answers during the wait; a Ctrl-C (SIGINT to the process
// group, as a terminal sends it) ends the wait, the sandbox is cleaned up
// by the test process itself (its guard finds nothing), the process ends
// as interrupted, and nothing of the run is left.
func TestKeepFailedUntilCtrlC(t *testing.T) {
	c, out := startKept(t, []string{"MATRIXBOX_KEEP=failed", "MATRIXBOX_KEEP_FOR=10m"})
	m := waitOutput(t, out, attachLine)
	for _, want := range []string{"keeping the sandbox of TestInFlight/TestInFlight/worker=buildkitd-oci, which failed", "BUILDKIT_HOST=unix://", "case logs"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the keep message lacks %q:\n%s", want, out)
		}
	}
	args := strings.Fields(m[1])
	if got, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil || !strings.Contains(string(got), "linux/") {
		t.Fatalf("the printed line %q does not answer during the wait: %v\n%s", m[1], err, got)
	}
	for _, d := range c.lines("dirs") {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("the kept sandbox's dir is gone during the wait: %v", err)
		}
	}
	if err := syscall.Kill(-c.cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := c.cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGINT {
		t.Errorf("the test process ended with %v, want killed by SIGINT (interrupted):\n%s", err, out)
	}
	text := out.String()
	for _, want := range []string{"ended by a signal; cleaning up", "ending the run as interrupted"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "ended without cleaning up") {
		t.Errorf("the guard had to clean up: the normal cleanup did not run:\n%s", text)
	}
	c.checkNothingLeft(t)
}

// With no MATRIXBOX_KEEP_FOR that short, the wait ends before the test
// binary's -timeout would kill it: the case is cleaned up by the test
// process and fails as usual, with no timeout panic and nothing left.
func TestKeepEndsBeforeTimeout(t *testing.T) {
	c, out := startKept(t, []string{"MATRIXBOX_KEEP=failed", "MATRIXBOX_KEEP_FOR=1h"}, "-test.timeout=100s")
	waitOutput(t, out, attachLine)
	if !strings.Contains(out.String(), "the test binary's -timeout") {
		t.Errorf("the keep message does not say the -timeout bounds the wait:\n%s", out)
	}
	err := c.cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("the test process ended with %v, want exit status 1 (a failed test):\n%s", err, out)
	}
	text := out.String()
	for _, want := range []string{"cleaning up", "--- FAIL: TestInFlight/TestInFlight/worker=buildkitd-oci"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	for _, bad := range []string{"panic: test timed out", "ended without cleaning up"} {
		if strings.Contains(text, bad) {
			t.Errorf("output has %q:\n%s", bad, text)
		}
	}
	c.checkNothingLeft(t)
}
