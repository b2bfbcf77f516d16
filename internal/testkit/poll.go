package testkit

import (
	"testing"
	"time"
)

// Interval is how often [Poll] and [WaitFor] call their check.
const Interval = 20 * time.Millisecond

// Poll calls check at once and then every [Interval] until it reports done
// or timeout has passed, and returns the state check last described and
// whether it was done. It is for a caller that reports a timeout its own
// way (each leftover as an error of its own, say); others call [WaitFor].
func Poll(timeout time.Duration, check func() (state string, done bool)) (string, bool) {
	deadline := time.Now().Add(timeout)
	for {
		state, done := check()
		if done || !time.Now().Before(deadline) {
			return state, done
		}
		time.Sleep(Interval)
	}
}

// WaitFor waits until check reports done, polling as [Poll] does, and
// fails t if it is not done within timeout, with a message that names
// what it waited for and the state check last described:
//
//	testkit.WaitFor(t, 10*time.Second, "the daemon to exit", func() (string, bool) {
//		return "still running", !alive(pid)
//	})
//
// check runs on the test's goroutine, so it may itself fail t (a child
// that ended before it got ready).
func WaitFor(t testing.TB, timeout time.Duration, what string, check func() (state string, done bool)) {
	t.Helper()
	if state, done := Poll(timeout, check); !done {
		t.Fatalf("timed out after %s waiting for %s; last seen:\n%s", timeout, what, state)
	}
}
