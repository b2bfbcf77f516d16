package integration

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The helpers below are those of BuildKit's harness that test helpers
// call with sb.Logs() (a registry, minio or azurite started beside the
// daemon): they keep BuildKit's signatures.

// FormatLogs renders logs (sb.Logs()) on one line, "name":"text" pairs in
// name order.
func FormatLogs(logs map[string]*bytes.Buffer) string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(logs)) {
		if b := logs[name]; b != nil {
			out = append(out, fmt.Sprintf("%q:%q", name, b.String()))
		}
	}
	return strings.Join(out, ",")
}

// PrintLogs gives f each log's name, then its lines, in name order.
func PrintLogs(logs map[string]*bytes.Buffer, f func(args ...any)) {
	for _, name := range slices.Sorted(maps.Keys(logs)) {
		f(name)
		if logs[name] == nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(logs[name].Bytes()))
		for sc.Scan() {
			f(sc.Text())
		}
	}
}

// LookupBinary returns an error wrapping ErrRequirements when name is not
// on PATH.
func LookupBinary(name string) error {
	if _, err := exec.LookPath(name); err != nil {
		return fmt.Errorf("%w: no %s on PATH: %v", ErrRequirements, name, err)
	}
	return nil
}

// MultiCloser collects cleanup functions; F runs them, last added first.
type MultiCloser struct {
	fns []func() error
}

// Append adds f.
func (mc *MultiCloser) Append(f func() error) { mc.fns = append(mc.fns, f) }

// F returns the function that runs every cleanup, last added first, once,
// and returns all their errors (BuildKit's returns the first alone).
func (mc *MultiCloser) F() func() error {
	return func() error {
		var errs []error
		for i := len(mc.fns) - 1; i >= 0; i-- {
			errs = append(errs, mc.fns[i]())
		}
		mc.fns = nil
		return errors.Join(errs...)
	}
}

// RunCmd runs cmd, its output in logs (when not nil) under "stdout: <cmd>"
// and "stderr: <cmd>".
func RunCmd(cmd *exec.Cmd, logs map[string]*bytes.Buffer) error {
	logTo(cmd, logs)
	return cmd.Run()
}

// StartCmd starts cmd, its output in logs as RunCmd's, and returns the
// function that stops it: SIGTERM, then SIGKILL after 10 seconds. The
// stop's error is the process's, unless the process died of the stop's
// signal.
func StartCmd(cmd *exec.Cmd, logs map[string]*bytes.Buffer) (func() error, error) {
	logTo(cmd, logs)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var once sync.Once
	var stopErr error
	return func() error {
		once.Do(func() {
			stopped := false
			select {
			case err := <-exited:
				stopErr = err
				return
			default:
			}
			if err := cmd.Process.Signal(syscall.SIGTERM); err == nil {
				stopped = true
			}
			var err error
			select {
			case err = <-exited:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				err = <-exited
			}
			var exit *exec.ExitError
			if stopped && errors.As(err, &exit) && !exit.Exited() {
				err = nil // it died of our signal
			}
			stopErr = err
		})
		return stopErr
	}, nil
}

// logTo sends cmd's output to two new buffers of logs.
func logTo(cmd *exec.Cmd, logs map[string]*bytes.Buffer) {
	if logs == nil {
		return
	}
	for _, stream := range []struct {
		name string
		w    *lockedBuffer
	}{{"stdout", &lockedBuffer{}}, {"stderr", &lockedBuffer{}}} {
		stream.w.b = new(bytes.Buffer)
		logs[stream.name+": "+cmd.String()] = stream.w.b
		if stream.name == "stdout" {
			cmd.Stdout = stream.w
		} else {
			cmd.Stderr = stream.w
		}
	}
}

// lockedBuffer serializes the writes of a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// WaitSocket dials the unix socket address ("unix:///path" or a path)
// until it answers or d passes; cmd, when not nil, is the process that
// should open it, whose exit ends the wait with an error.
func WaitSocket(address string, d time.Duration, cmd *exec.Cmd) error {
	path := strings.TrimPrefix(address, "unix://")
	deadline := time.Now().Add(d)
	for {
		if cmd != nil && cmd.Process != nil && exited(cmd.Process.Pid) {
			return fmt.Errorf("%s exited before its socket %s answered", cmd, address)
		}
		conn, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			return conn.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("socket %s did not answer within %s: %w", address, d, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// exited reports whether process pid has exited: Linux's /proc has it no
// more, or as a zombie (Z) awaiting its reaping; false when that cannot be
// told. Its Wait may be running in another goroutine, so its ProcessState
// is not read.
func exited(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		_, self := os.Stat("/proc/self/stat")
		return os.IsNotExist(err) && self == nil
	}
	// pid (comm) state ...: comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && len(b) > i+2 && (b[i+2] == 'Z' || b[i+2] == 'X')
}
