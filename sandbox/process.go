package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/matrixbox/matrixbox/internal/supervise"
)

// defaultGrace is how long Stop waits after SIGTERM before it sends SIGKILL.
const defaultGrace = 10 * time.Second

// Process is a supervised child: it runs in its own process group, dies with
// the test process, and writes its output to a sandbox log.
type Process struct {
	name    string
	cmd     *exec.Cmd
	logs    *Logs
	started time.Time

	done    chan struct{}
	waitErr error

	stopOnce sync.Once
	stopping chan struct{}
	stopErr  error
}

// Start starts cmd as the process called name. Unless cmd already has them,
// its stdout and stderr go to the log buffer of the same name. The process
// gets its own process group and SIGKILL when the test process dies, so a
// crashed or interrupted test leaves no daemon behind.
func Start(name string, cmd *exec.Cmd, logs *Logs) (*Process, error) {
	return start(name, cmd, logs, nil, nil)
}

// start starts cmd, inside group's daemon leaf when group is not nil, and
// from the thread of the mount namespace ns when ns is not nil.
func start(name string, cmd *exec.Cmd, logs *Logs, group *supervise.Group, ns *supervise.RunNS) (_ *Process, err error) {
	if logs == nil {
		logs = NewLogs()
	}
	w := logs.Writer(name)
	// The output goes through a pipe of the process's own, copied to the
	// log until every holder of it has closed it: a daemon's children keep
	// it open, and the process's exit must not wait for theirs (Wait would,
	// for a pipe of exec's).
	var out *os.File
	if cmd.Stdout == nil || cmd.Stderr == nil {
		r, pw, err := os.Pipe()
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		defer pw.Close()
		out = r
		defer func() {
			if err != nil {
				out.Close()
			}
		}()
		if cmd.Stdout == nil {
			cmd.Stdout = pw
		}
		if cmd.Stderr == nil {
			cmd.Stderr = pw
		}
	}
	supervise.SetProcessGroup(cmd)
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, supervise.OwnerEnv())
	p := &Process{name: name, cmd: cmd, logs: logs, done: make(chan struct{}), stopping: make(chan struct{})}
	logs.Printf(name, "matrixbox: starting %s", strings.Join(cmd.Args, " "))
	after := func() {}
	if group != nil {
		if after, err = group.Attach(cmd, "d"); err != nil {
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
	}
	p.started = time.Now()
	if ns != nil {
		if nerr := ns.Do(func() { err = cmd.Start() }); nerr != nil {
			err = nerr
		}
	} else {
		err = cmd.Start()
	}
	after()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	var drained chan struct{}
	if out != nil {
		drained = make(chan struct{})
		go copyOutput(w, out, drained)
	}
	go func() {
		p.waitErr = cmd.Wait()
		if out != nil {
			// Wake the copier, which then takes what the pipe holds:
			// all the process wrote. Done closes after that is in the
			// log, so a caller reading the log on exit reads the last
			// line too (buildkitd's clean stop is exit status 1 and a
			// line saying why).
			_ = out.SetReadDeadline(time.Now())
			<-drained
		}
		select {
		case <-p.stopping:
		default:
			logs.Printf(name, "matrixbox: %s (pid %d) exited: %s", name, cmd.Process.Pid, describeExit(p.waitErr))
		}
		if st := cmd.ProcessState; st != nil {
			// What the daemon cost, its reaped children included: the
			// measure of where a fresh backend's time goes.
			logs.Printf(name, "matrixbox: %s used %s of CPU (%s user, %s system)", name,
				(st.UserTime() + st.SystemTime()).Round(time.Millisecond), st.UserTime().Round(time.Millisecond), st.SystemTime().Round(time.Millisecond))
		}
		close(p.done)
	}()
	return p, nil
}

// testHookOutputRead, when a test sets it, runs after each read of a
// process's output, before the copy to the log: a slow copier. Atomic:
// copiers of earlier tests' processes may still be reading.
var testHookOutputRead atomic.Pointer[func()]

// logOutput writes a read of a process's output to its log.
func logOutput(w io.Writer, b []byte) {
	if hook := testHookOutputRead.Load(); hook != nil {
		(*hook)()
	}
	_, _ = w.Write(b)
}

// copyOutput copies a process's output from r to its log w until every
// holder of the pipe has closed it. A read deadline (set when the process
// has exited) makes it take what the pipe holds at once, without waiting,
// and close drained; output of children that still hold the pipe goes on
// to the log after that.
func copyOutput(w io.Writer, r *os.File, drained chan struct{}) {
	defer r.Close()
	var once sync.Once
	done := func() { once.Do(func() { close(drained) }) }
	defer done()
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			logOutput(w, buf[:n])
		}
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			_ = r.SetReadDeadline(time.Time{})
			drainPipe(w, r, len(buf)*32)
			done()
		case err != nil:
			return
		}
	}
}

// drainPipe copies what r holds now, up to max bytes (children writing
// without pause must not hold the exit up), reading without blocking.
func drainPipe(w io.Writer, r *os.File, max int) {
	rc, err := r.SyscallConn()
	if err != nil {
		return
	}
	buf := make([]byte, 32<<10)
	for total := 0; total < max; {
		n := 0
		if err := rc.Read(func(fd uintptr) bool {
			n, _ = syscall.Read(int(fd), buf)
			return true
		}); err != nil || n <= 0 {
			return
		}
		logOutput(w, buf[:n])
		total += n
	}
}

// Name returns the name the process was started with.
func (p *Process) Name() string { return p.name }

// Pid returns the process id, which is also its process group id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited and, if so, how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.waitErr
	default:
		return false, nil
	}
}

// WaitReady polls probe until it returns nil, the process exits, ctx ends or
// timeout passes. It logs how long the start took; a failure names the
// process, how it exited, and the last thing the probe said.
func (p *Process) WaitReady(ctx context.Context, timeout time.Duration, probe Probe) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	delay := 5 * time.Millisecond
	var last error
	for {
		if last = probe(ctx); last == nil {
			p.logs.Printf(p.name, "matrixbox: %s ready after %s", p.name, time.Since(p.started).Round(time.Millisecond))
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready (%s); last probe: %v", p.name, describeExit(p.waitErr), last)
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s: %v", p.name, timeout, last)
		case <-time.After(delay):
		}
		// Capped low: a probe is a cheap dial or read, and a start is
		// detected at most this late.
		if delay < 20*time.Millisecond {
			delay *= 2
		}
	}
}

// Stop sends SIGTERM to the process group, waits up to grace, then sends
// SIGKILL. It returns an error when the process had already died on its own
// (a crashed daemon), when it had to be killed, or when a member of its group
// outlived it. Calling Stop again returns the first result.
func (p *Process) Stop(grace time.Duration) error {
	p.stopOnce.Do(func() { p.stopErr = p.stop(grace) })
	return p.stopErr
}

func (p *Process) stop(grace time.Duration) error {
	// A process that died on its own may not be reaped yet: ask the kernel
	// whether it has exited, so that a daemon killed from outside is never
	// taken for one that stopped when told to.
	if supervise.ExitedUnreaped(p.Pid()) {
		<-p.done
	}
	if exited, err := p.Exited(); exited {
		supervise.KillGroup(p.Pid())
		return fmt.Errorf("%s had already exited: %s", p.name, describeExit(err))
	}
	close(p.stopping)
	var errs []error
	killed := false
	supervise.SignalGroup(p.Pid(), false)
	select {
	case <-p.done:
	case <-time.After(grace):
		errs = append(errs, fmt.Errorf("%s did not stop within %s of SIGTERM; killed", p.name, grace))
		supervise.KillGroup(p.Pid())
		killed = true
		<-p.done
	}
	// Children that stayed in the group (a daemon's helpers) must not
	// outlive it.
	if supervise.GroupAlive(p.Pid()) {
		supervise.KillGroup(p.Pid())
	}
	switch {
	case p.waitErr == nil, terminatedBy(p.waitErr, "terminated"):
	case killed && terminatedBy(p.waitErr, "killed"):
		// Reported above: it did not stop in time.
	case terminatedBy(p.waitErr, "killed"):
		// A SIGKILL Stop did not send: it was dying already.
		errs = append(errs, fmt.Errorf("%s had already exited: %s", p.name, describeExit(p.waitErr)))
	default:
		errs = append(errs, fmt.Errorf("%s stopped with %s", p.name, describeExit(p.waitErr)))
	}
	p.logs.Printf(p.name, "matrixbox: %s stopped after %s", p.name, time.Since(p.started).Round(time.Millisecond))
	return errors.Join(errs...)
}

func describeExit(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

func terminatedBy(err error, sigs ...string) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	for _, s := range sigs {
		if strings.HasSuffix(ee.Error(), "signal: "+s) {
			return true
		}
	}
	return false
}
