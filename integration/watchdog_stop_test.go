package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/sandbox"
)

func init() {
	// A case that skips or fails with FailNow ends by runtime.Goexit; its
	// watchdog must be disarmed all the same, or it fires into a finished
	// test later and panics the whole binary.
	scenarios["watchdog-after-goexit"] = func(t *testing.T) {
		Run(t, []Test{
			NewTest("TestSkips", func(t *testing.T, sb sandbox.Sandbox) { t.Skip("not here") }, Serial()),
			NewTest("TestFailsNow", func(t *testing.T, sb sandbox.Sandbox) { t.FailNow() }, Serial()),
			// Each within its own watchdog, together past the others'.
			NewTest("TestSleeps1", func(t *testing.T, sb sandbox.Sandbox) { time.Sleep(800 * time.Millisecond) }, Serial()),
			NewTest("TestSleeps2", func(t *testing.T, sb sandbox.Sandbox) { time.Sleep(800 * time.Millisecond) }, Serial()),
		})
	}
}

func TestWatchdogDisarmedWhenACaseSkipsOrFailsNow(t *testing.T) {
	out, _ := runChild(t, "watchdog-after-goexit", []string{"MATRIXBOX_WATCHDOG=1s", "MATRIXBOX_PARALLEL=1"})
	if strings.Contains(out, "panic") || strings.Contains(out, "matrixbox: watchdog") || len(caseLines(out, "PASS")) != 2 || len(caseLines(out, "FAIL")) != 1 {
		t.Fatalf("want two passes, one fail, one skip and no watchdog:\n%s", out)
	}
}
