package integration

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/internal/testkit"
)

// TestKeepSignalHelper is the process the keep signal tests signal: it
// says whether it started with SIGINT ignored, waits as a kept case does,
// and once a signal ends the wait, cleans up at once (MBX_KEEP_CLEANUP
// unset) or never, as a cleanup that hangs.
func TestKeepSignalHelper(t *testing.T) {
	if os.Getenv(envHelper) != "keep-signal" {
		t.Skip("run by TestKeepEndsAsInterruptedWithSIGINTIgnored")
	}
	fmt.Printf("sigint ignored at start: %v\n", sigintIgnored(t))
	w, hit := keeps.enter()
	fmt.Println("waiting")
	<-hit
	if !keeps.leave(w) {
		t.Fatal("the wait ended by a signal does not say so")
	}
	fmt.Println("cleaning up")
	if os.Getenv("MBX_KEEP_CLEANUP") == "hangs" {
		select {}
	}
	keeps.closed()
	t.Fatal("the process outlived the signal it raised again")
}

// sigintIgnored reads whether this process ignores SIGINT.
func sigintIgnored(t *testing.T) bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "SigIgn:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return mask&(1<<(syscall.SIGINT-1)) != 0
		}
	}
	t.Fatal("/proc/self/status has no SigIgn")
	return false
}

// A run started with SIGINT ignored (as a shell without job control starts
// a background job) whose kept wait a Ctrl-C ended ends as interrupted once
// cleaned up, and at a second Ctrl-C when its cleanup hangs. Before, the
// signal raised again, or let through, got the disposition the process
// started with, and was ignored: the process waited for ever.
func TestKeepEndsAsInterruptedWithSIGINTIgnored(t *testing.T) {
	for _, cleanup := range []string{"ends", "hangs"} {
		t.Run("cleanup-"+cleanup, func(t *testing.T) {
			cmd := exec.Command("/bin/sh", "-c", `trap '' INT; exec "$@"`, "sh",
				testkit.Self(), "-test.run=^TestKeepSignalHelper$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), envHelper+"=keep-signal", "MBX_KEEP_CLEANUP="+cleanup)
			c := testkit.Start(t, cmd)
			ctrlC := func(after string) {
				testkit.WaitFor(t, time.Minute, "the helper to print "+after, func() (string, bool) {
					return c.Output(), strings.Contains(c.Output(), after+"\n")
				})
				if err := syscall.Kill(-c.Pid(), syscall.SIGINT); err != nil {
					t.Fatal(err)
				}
			}
			ctrlC("waiting")
			if !strings.Contains(c.Output(), "sigint ignored at start: true") {
				t.Fatalf("precondition: the helper should start with SIGINT ignored:\n%s", c.Output())
			}
			if cleanup == "hangs" {
				ctrlC("cleaning up")
			}
			_, err := c.WaitEnded(t, time.Minute, "its Ctrl-C")
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGINT {
				t.Errorf("the helper ended with %v, want killed by SIGINT:\n%s", err, c.Output())
			}
		})
	}
}
