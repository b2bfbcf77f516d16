package faulttest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/internal/testkit"
)

// startKept runs the real fixture's failing case on worker with env
// (MATRIXBOX_KEEP and friends).
func startKept(t *testing.T, worker string, env []string, args ...string) *realChild {
	t.Helper()
	return startRealEnv(t, worker, "fail", env, args...)
}

// waitOutput waits until the child's output matches re.
func waitOutput(t *testing.T, c *realChild, re *regexp.Regexp) []string {
	t.Helper()
	var m []string
	testkit.WaitFor(t, 5*time.Minute, fmt.Sprintf("the child to print %q", re), func() (string, bool) {
		out := c.Output()
		m = re.FindStringSubmatch(out)
		return out, m != nil
	})
	return m
}

var attachLine = regexp.MustCompile(`(?m)^  attach +(\S*buildctl --addr \S+ debug workers)$`)

// MATRIXBOX_KEEP=failed keeps a failing case's daemon up (buildkitd, and
// dockerd with its containerd): the printed buildctl line answers during
// the wait; a Ctrl-C (SIGINT to the process group, as a terminal sends it)
// ends the wait, the sandbox is cleaned up by the test process itself (its
// guard finds nothing), the process ends as interrupted, and nothing of
// the run is left; a rootless buildkitd too. So too when the test process
// started with SIGINT ignored, as a shell without job control starts a
// background job (`go test -c` and then `./pkg.test &` in a script): the
// raised SIGINT was ignored there, and the process, its sandbox cleaned
// up, waited for it for ever.
func TestKeepFailedUntilCtrlC(t *testing.T) {
	for _, w := range []string{"buildkitd-oci", "dockerd-containerd", "buildkitd-oci-rootless"} {
		t.Run(w, func(t *testing.T) { testKeepFailedUntilCtrlC(t, w, nil) })
	}
	t.Run("buildkitd-oci/SIGINT-ignored", func(t *testing.T) {
		testKeepFailedUntilCtrlC(t, "buildkitd-oci", []string{"/bin/sh", "-c", `trap '' INT; exec "$@"`, "sh"})
	})
}

// endedAfterCtrlC bounds the wait for a kept case's run to end once
// Ctrl-C ended its wait: its cleanup takes seconds; a run that is still
// there then will not end by itself.
const endedAfterCtrlC = 2 * time.Minute

func testKeepFailedUntilCtrlC(t *testing.T, worker string, via []string) {
	c := startRealVia(t, via, worker, "fail", []string{"MATRIXBOX_KEEP=failed", "MATRIXBOX_KEEP_FOR=10m"})
	m := waitOutput(t, c, attachLine)
	for _, want := range []string{"keeping the sandbox of TestInFlight/TestInFlight/worker=" + worker + "/", "which failed", "BUILDKIT_HOST=unix://", "case logs"} {
		if !strings.Contains(c.Output(), want) {
			t.Errorf("the keep message lacks %q:\n%s", want, c.Output())
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
	if err := syscall.Kill(-c.Pid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	_, err := c.WaitEnded(t, endedAfterCtrlC, "Ctrl-C ended its wait")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGINT {
		t.Errorf("the test process ended with %v, want killed by SIGINT (interrupted):\n%s", err, c.Output())
	}
	text := c.Output()
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
	c := startKept(t, "buildkitd-oci", []string{"MATRIXBOX_KEEP=failed", "MATRIXBOX_KEEP_FOR=1h"}, "-test.timeout=100s")
	waitOutput(t, c, attachLine)
	if !strings.Contains(c.Output(), "the test binary's -timeout") {
		t.Errorf("the keep message does not say the -timeout bounds the wait:\n%s", c.Output())
	}
	_, err := c.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("the test process ended with %v, want exit status 1 (a failed test):\n%s", err, c.Output())
	}
	text := c.Output()
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
