package box

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/internal/supervise"
	"github.com/matrixbox/matrixbox/internal/testkit"
	"github.com/matrixbox/matrixbox/sandbox"
)

// shWorker's backend is one daemon, sh running script, started as every
// worker starts its daemons.
type shWorker struct{ script string }

func (shWorker) Name() string { return "sh" }
func (w shWorker) New(_ context.Context, cfg *sandbox.Config) (sandbox.Backend, func() error, error) {
	p, err := cfg.Start("sh", exec.Command("sh", "-c", w.script))
	if err != nil {
		return nil, nil, err
	}
	return hostBackend{}, func() error { return p.Stop(5 * time.Second) }, nil
}

// A backend's daemons run in a mount namespace of their own, where
// /run/runc and /run/containerd are the backend's directories: what a
// daemon writes there is under the backend's directory, not the
// machine's, and no mount of the namespace shows in the test process's.
// Making and ending namespaces kills no command another goroutine started
// before: their threads are clean ones.
func TestDaemonsKeepRunStateInTheBackend(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a mount namespace needs root")
	}
	name := "mbx-nstest-" + filepath.Base(t.TempDir())
	var sleeps []*exec.Cmd
	defer func() {
		for _, c := range sleeps {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	}()
	// A command started by this goroutine, as a case's are: its thread
	// is the likeliest to run the namespace's goroutine next.
	startSleep := func() {
		cmd := exec.Command("sleep", "60")
		supervise.SetProcessGroup(cmd) // a parent-death signal, as sb.Cmd's
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sleeps = append(sleeps, cmd)
	}
	mounts := supervise.MountsUnder("/")
	for i := range 8 {
		startSleep()
		logs := sandbox.NewLogs()
		r, err := StartBackend(context.Background(), shWorker{"echo x > /run/runc/" + name + " && echo x > /run/containerd/" + name + " && exec sleep 60"}, sandbox.Config{Logs: logs})
		if err != nil {
			t.Fatal(err)
		}
		testkit.WaitFor(t, 10*time.Second, "the daemon's files", func() (string, bool) {
			_, err := os.Stat(filepath.Join(r.Dir(), "b", "run", "containerd", name))
			return logs.String(), err == nil
		})
		if i == 0 {
			for _, p := range []string{"/run/runc/" + name, "/run/containerd/" + name} {
				if _, err := os.Stat(p); err == nil {
					os.Remove(p)
					t.Errorf("the daemon wrote %s on the machine", p)
				}
			}
			if !strings.Contains(logs.String(), "run in a mount namespace of their own") {
				t.Errorf("the log does not say so:\n%s", logs.String())
			}
			if got := supervise.MountsUnder("/"); len(got) != len(mounts) {
				t.Errorf("the test process sees %d mounts, %d before the namespace", len(got), len(mounts))
			}
		}
		if err := r.Stop(); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range sleeps {
		if err := syscall.Kill(c.Process.Pid, 0); err != nil || supervise.ExitedUnreaped(c.Process.Pid) {
			t.Errorf("command %d, started on another goroutine's thread, was killed when a namespace ended", c.Process.Pid)
		}
	}
}

// A daemon that ends before its backend is stopped has died: Died is
// closed and Death says which and how; one the backend's stop stops has
// not.
func TestBackendDiedWhenADaemonEnds(t *testing.T) {
	r, err := StartBackend(context.Background(), shWorker{"exec sleep 60"}, sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.Died():
		t.Fatalf("died at once: %s", r.Death())
	default:
	}
	pid := 0
	if b, err := os.ReadFile(filepath.Join(r.Dir(), supervise.DaemonsRecord)); err == nil {
		pid, _ = strconv.Atoi(strings.Split(string(b), ".")[0])
	}
	if pid == 0 {
		t.Fatal("no daemon recorded")
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	select {
	case <-r.Died():
	case <-time.After(30 * time.Second):
		t.Fatal("Died not closed 30 s after the daemon was killed")
	}
	if want := "sh (pid " + strconv.Itoa(pid) + ") died: signal: killed"; r.Death() != want {
		t.Errorf("Death() = %q, want %q", r.Death(), want)
	}
	_ = r.Stop()

	r, err = StartBackend(context.Background(), shWorker{"exec sleep 60"}, sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	if d := r.Death(); d != "" {
		t.Errorf("a backend stopped as usual died: %s", d)
	}
}
