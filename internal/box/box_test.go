package box

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/internal/supervise"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"

	"github.com/matrixbox/matrixbox/internal/testkit"
)

func cellOf(t *testing.T, axes ...matrix.Axis) matrix.Cell {
	t.Helper()
	cells, err := matrix.Expand(axes...)
	if err != nil {
		t.Fatal(err)
	}
	return cells[0]
}

func TestBoxHostLifecycle(t *testing.T) {
	cell := cellOf(t, matrix.Strings("worker", "host"), matrix.Strings("my-axis", "v1"))
	b, err := Open(context.Background(), Spec{Config: sandbox.Config{Cell: cell}, Worker: hostWorker{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.TempDir()) > supervise.MaxSocketDir+10 {
		t.Errorf("temp dir %q too long for sockets", b.TempDir())
	}
	if b.Name() != "worker=host/my-axis=v1" || b.Value("my-axis") != "v1" || b.Address() != "" {
		t.Errorf("name %q value %v address %q", b.Name(), b.Value("my-axis"), b.Address())
	}
	out, err := b.Cmd("sh", "-c", `pwd; echo "$MATRIXBOX_CELL $MATRIXBOX_AXIS_MY_AXIS $MATRIXBOX_AXIS_WORKER"`).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := b.TempDir() + "\nworker=host/my-axis=v1 v1 host\n"
	if string(out) != want {
		t.Errorf("Cmd printed %q, want %q", out, want)
	}
	ctx := b.Context()
	dir := filepath.Dir(b.TempDir())
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() == nil {
		t.Error("context not cancelled by Close")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("sandbox dir %s not removed: %v", dir, err)
	}
	if err := b.Cmd().Run(); err == nil {
		t.Error("Cmd() with no args ran")
	}
}

type failingWorker struct{ startErr, stopErr error }

func (failingWorker) Name() string { return "failing" }
func (w failingWorker) New(_ context.Context, cfg *sandbox.Config) (sandbox.Backend, func() error, error) {
	cfg.Logs.Printf("failing", "daemon said something before dying")
	if w.startErr != nil {
		return nil, nil, w.startErr
	}
	return hostBackend{}, func() error { return w.stopErr }, nil
}

// hostWorker starts no daemon, as workers.Host (which sandbox may not
// import) does.
type hostWorker struct{}

func (hostWorker) Name() string { return "host" }

func (hostWorker) New(context.Context, *sandbox.Config) (sandbox.Backend, func() error, error) {
	return hostBackend{}, nil, nil
}

type hostBackend struct{}

func (hostBackend) Address() string { return "" }

func TestBoxReportsStartAndStopErrors(t *testing.T) {
	cell := cellOf(t, matrix.Strings("worker", "failing"))
	logs := sandbox.NewLogs()
	_, err := Open(context.Background(), Spec{Config: sandbox.Config{Cell: cell, Logs: logs}, Worker: failingWorker{startErr: errors.New("boom")}})
	if err == nil || !strings.Contains(err.Error(), "start worker failing: boom") {
		t.Fatalf("Open err = %v", err)
	}
	if !strings.Contains(logs.String(), "daemon said something") {
		t.Errorf("logs of the failed start are lost: %q", logs.String())
	}
	b, err := Open(context.Background(), Spec{Config: sandbox.Config{Cell: cell}, Worker: failingWorker{stopErr: errors.New("shutdown hung")}})
	if err != nil {
		t.Fatal(err)
	}
	b.Defer("a test cleanup", func() error { return errors.New("second error") })
	err = b.Close()
	if err == nil || !strings.Contains(err.Error(), "stop worker failing: shutdown hung") || !strings.Contains(err.Error(), "a test cleanup: second error") {
		t.Fatalf("Close must report every error, got %v", err)
	}
}

func TestBoxReportsLeakedProcess(t *testing.T) {
	b, err := Open(context.Background(), Spec{Config: sandbox.Config{Cell: cellOf(t, matrix.Strings("worker", "host"))}, Worker: hostWorker{}})
	if err != nil {
		t.Fatal(err)
	}
	cmd := b.Cmd("sleep", "300")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := b.Cmd("true")
	if err := done.Run(); err != nil {
		t.Fatal(err)
	}
	// The shell exits at once; the sleep it put in the background is an
	// orphan that only the marker in its environment ties to the sandbox.
	// It is named by its pid: Close may find it before its exec of sleep
	// has its arguments, as "/usr/bin/sleep (starting)".
	out, err := b.Cmd("sh", "-c", "sleep 301 >/dev/null 2>&1 & echo $!").Output()
	if err != nil {
		t.Fatal(err)
	}
	orphan := "(pid " + strings.TrimSpace(string(out)) + ")"
	// Started, finished, never waited for: a zombie, not a leak.
	unwaited := b.Cmd("sh", "-c", "exit 0")
	if err := unwaited.Start(); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, 10*time.Second, "sh -c 'exit 0' to exit", func() (string, bool) {
		return testkit.StatLine(unwaited.Process.Pid), !testkit.Alive(unwaited.Process.Pid)
	})
	err = b.Close()
	if err == nil || !strings.Contains(err.Error(), "leaked process") || !strings.Contains(err.Error(), "sleep 300") || !strings.Contains(err.Error(), orphan) {
		t.Fatalf("Close err = %v", err)
	}
	if strings.Contains(err.Error(), `"true"`) || strings.Contains(err.Error(), "exit 0") {
		t.Errorf("a command that finished was reported: %v", err)
	}
	_ = cmd.Wait()
	_ = unwaited.Wait()
}

func TestBoxReportsAndDetachesLeakedMount(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root")
	}
	b, err := Open(context.Background(), Spec{Config: sandbox.Config{Cell: cellOf(t, matrix.Strings("worker", "host"))}, Worker: hostWorker{}})
	if err != nil {
		t.Fatal(err)
	}
	mnt := filepath.Join(b.TempDir(), "m")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("cannot mount tmpfs here: %v", err)
	}
	if got := supervise.MountsUnder(filepath.Dir(b.TempDir())); len(got) != 1 || got[0] != mnt {
		t.Fatalf("MountsUnder = %v", got)
	}
	err = b.Close()
	if err == nil || !strings.Contains(err.Error(), "leaked mounts") || !strings.Contains(err.Error(), mnt) {
		t.Fatalf("Close err = %v", err)
	}
	if got := supervise.MountsUnder(mnt); len(got) != 0 {
		t.Fatalf("mount left behind: %v", got)
	}
}

func TestCmdKilledWhenCaseEnds(t *testing.T) {
	b, err := Open(context.Background(), Spec{Config: sandbox.Config{Cell: cellOf(t, matrix.Strings("worker", "host"))}, Worker: hostWorker{}})
	if err != nil {
		t.Fatal(err)
	}
	cmd := b.Cmd("sleep", "300")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- cmd.Wait() }()
	_ = b.Close()
	select {
	case err := <-errc:
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("command outlived its sandbox")
	}
}

func TestSupportsAndLogText(t *testing.T) {
	b, err := Open(context.Background(), Spec{Config: sandbox.Config{Cell: cellOf(t, matrix.Strings("worker", "host"))}, Worker: hostWorker{}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if sandbox.Supports(b, "anything") {
		t.Error("host backend claims a feature")
	}
	b.Logs().Printf("mine", "hello %d", 1)
	if b.Logs().Text("mine") != "hello 1\n" {
		t.Errorf("b.Logs().Text = %q", b.Logs().Text("mine"))
	}
}

// plain wraps a Sandbox and forwards nothing but its methods.
type plain struct{ sandbox.Sandbox }

// forwarding wraps a Sandbox and forwards its capabilities too.
type forwarding struct{ *Box }

func TestWrappersKeepWhatTheyForward(t *testing.T) {
	b, err := Open(context.Background(), Spec{Config: sandbox.Config{Cell: cellOf(t, matrix.Strings("worker", "host"))}, Worker: hostWorker{}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.Logs().Printf("daemon", "up")

	if got := (forwarding{b}).Logs().Text("daemon"); got != "up\n" {
		t.Errorf("through a forwarding wrapper: %q", got)
	}
	if (plain{b}).Backend() == nil {
		t.Error("a wrapper that embeds the Sandbox lost the backend")
	}
	// A wrapper that embeds the Sandbox interface alone keeps the logs.
	if got := (plain{b}).Logs().Text("daemon"); got != "up\n" {
		t.Errorf("through a plain wrapper: %q", got)
	}
	(plain{b}).Logs().Printf("test", "added")
	if !strings.Contains(b.Logs().String(), "===== test =====\nadded\n") {
		t.Errorf("a log added through a plain wrapper is not the box's:\n%s", b.Logs().String())
	}
}
