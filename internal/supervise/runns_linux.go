package supervise

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// RunDirs are the directories under /run where daemons keep runtime state
// at paths compiled into them: runc's default root (buildkitd's OCI
// worker, dockerd's builder) and containerd's state directory, which holds
// the shims' sockets (s), runc's root for containerd's shims (runc) and a
// system containerd's socket. In a backend's mount namespace each is a
// directory of the backend's own (<backend dir>/run/…), so what a killed
// daemon left there goes with the backend's directory, and a system
// containerd is out of sight (dockerd starts its own).
var RunDirs = []string{"/run/runc", "/run/containerd"}

// sharedRunDirs stay the machine's inside the namespace: a containerd
// client makes a task's stdio fifos under /run/containerd/fifo and the
// shim opens them by path, so a client outside the namespace (a test's
// own containerd client, ctr) and the shims inside must see one
// directory. What a killed buildkitd left there is removed by
// RemoveOutside.
var sharedRunDirs = []string{"/run/containerd/fifo"}

// RunNS is the mount namespace the daemons of one backend run in: a copy
// of the machine's (mounts made outside still show inside; none made
// inside shows outside) where RunDirs are the backend's own. Go has no
// way to start a process in another mount namespace, so a goroutine locks
// an OS thread, unshares the thread's mount namespace, and starts the
// daemons from it: a child is made in the namespace of the thread that
// forks it. The thread lives as long as the backend: a daemon's
// parent-death signal follows the thread that forked it, and ends the
// daemon when the thread ends.
//
// That is why the thread must be a clean one: not the main thread (whose
// namespace is the process's as /proc/self shows it, and which never
// ends), and the parent of no process (the goroutines that ran on it
// before may have started commands, which its end would kill).
type RunNS struct {
	calls chan func()
	done  chan struct{}
	once  sync.Once
}

// maxThreadTries bounds the threads NewRunNS looks at for a clean one.
const maxThreadTries = 64

// NewRunNS makes the namespace, with RunDirs bound to directories under
// dir/run.
func NewRunNS(dir string) (*RunNS, error) {
	ns := &RunNS{calls: make(chan func()), done: make(chan struct{})}
	ready := make(chan error, 1)
	// Every thread found unclean stays locked until a clean one is: so
	// the next goroutine runs on another thread, a new one at worst.
	found := make(chan struct{})
	var try func(n int)
	try = func(n int) {
		runtime.LockOSThread()
		clean, err := cleanThread()
		switch {
		case err != nil || !clean && n == maxThreadTries:
			if err == nil {
				err = fmt.Errorf("no clean thread among %d", maxThreadTries)
			}
			ready <- err
			close(found)
			runtime.UnlockOSThread()
		case !clean:
			go try(n + 1)
			<-found
			runtime.UnlockOSThread()
		default:
			close(found)
			ns.serve(dir, ready)
		}
	}
	go try(1)
	if err := <-ready; err != nil {
		return nil, fmt.Errorf("a mount namespace for the backend's daemons: %w", err)
	}
	return ns, nil
}

// cleanThread reports whether the calling thread is neither the main one
// nor the parent of a running process.
func cleanThread() (bool, error) {
	tid := unix.Gettid()
	if tid == unix.Getpid() {
		return false, nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/children", tid))
	if err != nil {
		return false, fmt.Errorf("the kernel does not list a thread's children (CONFIG_PROC_CHILDREN): %w", err)
	}
	return len(strings.TrimSpace(string(b))) == 0, nil
}

// serve enters the namespace on the calling thread, locked, and runs the
// calls given to do until close. The thread is never unlocked: it ends
// with the goroutine, and its namespace with it.
func (ns *RunNS) serve(dir string, ready chan<- error) {
	defer close(ns.done)
	if err := enterRunNS(dir); err != nil {
		ready <- err
		return
	}
	ready <- nil
	for f := range ns.calls {
		f()
	}
}

// enterRunNS unshares the calling thread's mount namespace and binds
// RunDirs in it.
func enterRunNS(dir string) error {
	if err := unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare: %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_SLAVE, ""); err != nil {
		return fmt.Errorf("make / a slave: %w", err)
	}
	for _, shared := range sharedRunDirs {
		if err := os.MkdirAll(shared, 0o700); err != nil {
			return err
		}
	}
	for _, d := range RunDirs {
		own := filepath.Join(dir, "run", filepath.Base(d))
		// The mount points exist on the machine, empty where no daemon of
		// its own made them.
		if err := errors.Join(os.MkdirAll(own, 0o711), os.MkdirAll(d, 0o711)); err != nil {
			return err
		}
		for _, shared := range sharedRunDirs {
			if rel, err := filepath.Rel(d, shared); err == nil && filepath.IsLocal(rel) {
				inner := filepath.Join(own, rel)
				if err := os.MkdirAll(inner, 0o700); err != nil {
					return err
				}
				if err := unix.Mount(shared, inner, "", unix.MS_BIND, ""); err != nil {
					return fmt.Errorf("bind %s: %w", shared, err)
				}
			}
		}
		if err := unix.Mount(own, d, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind %s over %s: %w", own, d, err)
		}
	}
	return nil
}

// Do runs f on the namespace's thread, and returns when f has.
func (ns *RunNS) Do(f func()) error {
	finished := make(chan struct{})
	select {
	case ns.calls <- func() { f(); close(finished) }:
		<-finished
		return nil
	case <-ns.done:
		return errors.New("the backend's mount namespace is closed")
	}
}

// Close ends the thread; the namespace ends with the last process in it.
func (ns *RunNS) Close() {
	ns.once.Do(func() { close(ns.calls) })
	<-ns.done
}
