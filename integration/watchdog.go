package integration

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// defaultWatchdog is how long a case may run before the watchdog reports it.
const defaultWatchdog = 20 * time.Minute

// watchdogMargin is how long before go test's -timeout the watchdog fires, so
// the case's logs and stacks are printed before the test binary is killed.
const watchdogMargin = 30 * time.Second

// watchdog fails a case that runs too long instead of letting it hang the
// job: it prints the case's logs and every goroutine's stack, then aborts
// the sandbox (cancelling its context, which kills its commands) so the test
// can return. t.Errorf and t.Logf are safe from this goroutine; only
// FailNow is not, and it is not called.
type watchdog struct {
	timer *time.Timer
	mu    sync.Mutex
	fired bool
}

// startWatchdog arms a watchdog for d (shortened to fire before the test
// binary's own deadline), or returns nil when d is zero.
func startWatchdog(t *testing.T, d time.Duration, logs func() string, abort func()) *watchdog {
	if deadline, ok := t.Deadline(); ok {
		if left := time.Until(deadline) - watchdogMargin; left > 0 && (d == 0 || left < d) {
			d = left
		}
	}
	if d <= 0 {
		return nil
	}
	w := &watchdog{}
	w.timer = time.AfterFunc(d, func() {
		w.mu.Lock()
		w.fired = true
		w.mu.Unlock()
		t.Errorf("matrixbox: watchdog: case still running after %s; aborting its sandbox (set %s to change the limit)", d.Round(100*time.Millisecond), envWatchdog)
		if s := logs(); s != "" {
			t.Logf("matrixbox: logs at watchdog time:\n%s", s)
		}
		t.Logf("matrixbox: goroutines at watchdog time:\n%s", allStacks())
		abort()
	})
	return w
}

func (w *watchdog) stop() {
	if w != nil {
		w.timer.Stop()
	}
}

func allStacks() string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return string(buf[:n])
		}
		if len(buf) >= 64<<20 {
			return string(buf[:n]) + "\n[truncated]"
		}
		buf = make([]byte, 2*len(buf))
	}
}
