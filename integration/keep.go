package integration

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/internal/box"
	"github.com/matrixbox/matrixbox/internal/remote"
	"github.com/matrixbox/matrixbox/sandbox"
)

// Keeping a sandbox: a developer attaches to the daemon of a failed case
// before it is stopped.
//
// The wait sits in the case's cleanup between printing its logs and
// closing its sandbox, so the backend is up and the case's state on it
// intact. The case gives up its parallel slot while it waits, so the other
// cases go on. The wait ends after MATRIXBOX_KEEP_FOR, before go test's
// -timeout would kill the process, or at SIGINT or SIGTERM; then the
// sandbox closes as it always does. A signal ends the waits of every kept
// case; once the last of them is cleaned up, the signal is raised again
// with its default action, so the process ends as interrupted and its
// guard removes what the other cases had running. A second Ctrl-C during
// that cleanup ends the process at once (the guard cleans up then too).

// Environment variables of keeping.
const (
	// envKeep is "failed" (keep the sandbox of a failing case) or
	// "always" (keep the sandbox of the one case a -run selects).
	envKeep = "MATRIXBOX_KEEP"
	// envKeepFor bounds the wait (default defaultKeepFor).
	envKeepFor = "MATRIXBOX_KEEP_FOR"
)

// defaultKeepFor is how long a kept sandbox waits unless MATRIXBOX_KEEP_FOR
// says otherwise.
const defaultKeepFor = 30 * time.Minute

// keepLogFile is the file, in a kept sandbox's directory, that holds the
// case's logs during the wait.
const keepLogFile = "matrixbox-logs.txt"

type keepSettings struct {
	failed, always bool
	wait           time.Duration
}

// readKeep reads MATRIXBOX_KEEP and MATRIXBOX_KEEP_FOR.
func readKeep() (keepSettings, error) {
	k := keepSettings{wait: defaultKeepFor}
	switch v := strings.TrimSpace(os.Getenv(envKeep)); v {
	case "", "never":
	case "failed":
		k.failed = true
	case "always":
		k.always = true
	default:
		return k, fmt.Errorf("%s=%q: want \"failed\" or \"always\"", envKeep, v)
	}
	if v := strings.TrimSpace(os.Getenv(envKeepFor)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return k, fmt.Errorf("%s=%q: want a positive duration such as 30m", envKeepFor, v)
		}
		k.wait = d
	}
	return k, nil
}

// admit refuses MATRIXBOX_KEEP=always for a Run of more than one case:
// every kept case waits, so it is for the one case a developer looks at.
func (k keepSettings) admit(parent string, cases []caseSpec) error {
	if !k.always || len(cases) <= 1 {
		return nil
	}
	var names []string
	for i, c := range cases {
		if i == 3 {
			names = append(names, "…")
			break
		}
		names = append(names, parent+"/"+c.name)
	}
	return fmt.Errorf("%s=always keeps the sandbox of one case, and this Run selects %d (%s): select one, e.g. go test -run %s",
		envKeep, len(cases), strings.Join(names, ", "), "'"+runPattern(parent+"/"+cases[0].name)+"'")
}

// keeps is the process-wide state of the kept sandboxes.
var keeps keeper

type keeper struct {
	mu    sync.Mutex
	waits map[*keepWait]bool
	// session catches SIGINT and SIGTERM while any case waits; nil when
	// none does.
	session *keepSession
	// signal is the signal that ended the waits; unclosed counts the cases
	// it ended that have not finished cleaning up.
	signal   os.Signal
	unclosed int
}

// keepWait is one case's wait.
type keepWait struct {
	interrupted bool // ended by the signal
}

type keepSession struct {
	sigc chan os.Signal
	hit  chan struct{} // closed at the signal
	done chan struct{} // closed when the session ends without one
}

// enter starts a wait; hit is closed by a signal. It returns nil when a
// signal already ended the waits (the process is ending).
func (k *keeper) enter() (w *keepWait, hit <-chan struct{}) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.signal != nil {
		return nil, nil
	}
	if k.session == nil {
		s := &keepSession{sigc: make(chan os.Signal, 1), hit: make(chan struct{}), done: make(chan struct{})}
		signal.Notify(s.sigc, syscall.SIGINT, syscall.SIGTERM)
		go k.watch(s)
		k.session = s
	}
	if k.waits == nil {
		k.waits = map[*keepWait]bool{}
	}
	w = &keepWait{}
	k.waits[w] = true
	return w, k.session.hit
}

func (k *keeper) watch(s *keepSession) {
	select {
	case sig := <-s.sigc:
		k.mu.Lock()
		k.signal = sig
		for w := range k.waits {
			w.interrupted = true
		}
		k.unclosed = len(k.waits)
		k.mu.Unlock()
		close(s.hit)
		// A second Ctrl-C ends the process at once, without waiting for
		// the cleanup. Not by stopping the notification: that gives the
		// signal back the disposition the process started with, which
		// for a background job of a shell is to ignore SIGINT.
		if err := raiseDefault(<-s.sigc); err != nil {
			fmt.Fprintf(os.Stderr, "matrixbox: ending the process at a second signal: %v\n", err)
		}
	case <-s.done:
	}
}

// leave ends a wait and reports whether the signal ended it; the last
// wait ends the session.
func (k *keeper) leave(w *keepWait) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.waits, w)
	if len(k.waits) == 0 && k.session != nil {
		if k.signal == nil {
			signal.Stop(k.session.sigc)
			close(k.session.done)
		}
		k.session = nil
	}
	return w.interrupted
}

// closed is called by a case whose wait a signal ended, once its sandbox
// is cleaned up; the last one raises the signal again.
func (k *keeper) closed() {
	k.mu.Lock()
	k.unclosed--
	last, sig := k.unclosed == 0, k.signal
	k.mu.Unlock()
	if !last {
		return
	}
	fmt.Fprintf(os.Stderr, "matrixbox: %v ended the wait; the kept sandboxes are cleaned up; ending the run as interrupted\n", sig)
	if err := raiseDefault(sig); err != nil {
		fmt.Fprintf(os.Stderr, "matrixbox: raising %v again: %v\n", sig, err)
		return
	}
	// The signal is handled on another thread; until it ends the process,
	// this case must not finish, or the process could end first, as if
	// the run had completed.
	select {}
}

// keep holds a failing case's sandbox open for a person to attach to, per
// MATRIXBOX_KEEP; it returns when the wait ends.
func (cr *caseRun) keep(bx *box.Box) {
	k := cr.r.keep
	failed := cr.t.Failed()
	if cr.r.settings.ext.attempt != "" {
		return // an attempt of a quarantined case: its output is not seen live
	}
	if !k.always && !(k.failed && failed) {
		return
	}
	wait, why := k.wait, envKeepFor+"="+k.wait.String()
	if d, ok := cr.t.Deadline(); ok {
		if left := time.Until(d) - watchdogMargin; left < wait {
			wait, why = left.Round(time.Second), "the test binary's -timeout (go test -timeout 0 for none)"
		}
	}
	if wait <= 0 {
		fmt.Fprintf(os.Stderr, "matrixbox: not keeping the sandbox of %s: the test binary's -timeout leaves no time\n", cr.t.Name())
		return
	}
	kw, hit := keeps.enter()
	if kw == nil {
		return
	}
	if cr.release != nil {
		cr.release()
	}
	outcome := "passed"
	if failed {
		outcome = "failed"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "matrixbox: keeping the sandbox of %s, which %s (%s=%s), for %s (%s) or until Ctrl-C:\n",
		cr.t.Name(), outcome, envKeep, os.Getenv(envKeep), wait, why)
	cr.describeKept(&b, bx)
	b.WriteString("matrixbox: Ctrl-C ends the wait, cleans up and ends the run as interrupted; a second Ctrl-C ends it at once\n")
	if !testing.Verbose() {
		b.WriteString("matrixbox: (go test -v shows the test's own output as it happens)\n")
	}
	os.Stderr.WriteString(b.String())

	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-hit:
	}
	cr.interrupted = keeps.leave(kw)
	if cr.interrupted {
		fmt.Fprintf(os.Stderr, "matrixbox: the wait of %s ended by a signal; cleaning up\n", cr.t.Name())
	} else {
		fmt.Fprintf(os.Stderr, "matrixbox: the wait of %s ended after %s; cleaning up\n", cr.t.Name(), wait)
	}
}

// describeKept writes where the kept sandbox is and how to reach it.
func (cr *caseRun) describeKept(w io.Writer, bx *box.Box) {
	fmt.Fprintf(w, "  sandbox dir  %s\n", bx.Dir())
	logs := cr.logs.String()
	if cr.warm != nil {
		logs += cr.warm.logs().String()
	}
	lf := filepath.Join(bx.Dir(), keepLogFile)
	if err := os.WriteFile(lf, []byte(logs), 0o644); err == nil {
		fmt.Fprintf(w, "  case logs    %s\n", lf)
	}
	be := bx.Backend()
	if r, ok := be.(remote.Daemon); ok {
		fmt.Fprintf(w, "  daemon       %s (remote: matrixbox did not start it and will not stop it)\n", r.RemoteAddress())
	}
	if e, ok := be.(sandbox.Enver); ok {
		for _, kv := range e.Env() {
			fmt.Fprintf(w, "  %s\n", kv)
		}
	}
	if a, ok := be.(sandbox.Attacher); ok {
		for _, line := range a.AttachCommands() {
			fmt.Fprintf(w, "  attach       %s\n", line)
		}
	}
}

// endKeep, the last cleanup of a case, lets a signal that ended its wait
// end the process once its sandbox is cleaned up.
func (cr *caseRun) endKeep() {
	if cr.interrupted {
		keeps.closed()
	}
}
