package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/internal/supervise"
	"github.com/matrixbox/matrixbox/internal/testkit"
)

// TestMain lets the test binary act as a small daemon for the tests below
// when MATRIXBOX_TEST_DAEMON is set: listen on a unix socket or print a line,
// optionally ignore SIGTERM, optionally start a grandchild in its group.
func TestMain(m *testing.M) {
	if mode := os.Getenv("MATRIXBOX_TEST_DAEMON"); mode != "" {
		daemon(mode)
		return
	}
	os.Exit(m.Run())
}

func daemon(mode string) {
	fmt.Println("daemon starting")
	for _, m := range strings.Split(mode, ",") {
		k, v, _ := strings.Cut(m, "=")
		switch k {
		case "sleep-before":
			d, _ := time.ParseDuration(v)
			time.Sleep(d)
		case "unix":
			l, err := net.Listen("unix", v)
			if err != nil {
				fmt.Println(err)
				os.Exit(3)
			}
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					c.Close()
				}
			}()
		case "say":
			fmt.Println(v)
		case "ignore-term":
			signal.Ignore(syscall.SIGTERM)
		case "child":
			c := exec.Command("sleep", "300")
			if err := c.Start(); err == nil {
				fmt.Println("child", c.Process.Pid)
			}
		case "exit":
			n, _ := strconv.Atoi(v)
			os.Exit(n)
		}
	}
	select {}
}

func daemonCmd(mode string) *exec.Cmd {
	cmd := exec.Command(testkit.Self(), "-test.run=^$")
	cmd.Env = append(os.Environ(), "MATRIXBOX_TEST_DAEMON="+mode)
	return cmd
}

func TestProcessReadyOnUnixSocket(t *testing.T) {
	dir, err := supervise.MkdirShort()
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "d.sock")
	logs := NewLogs()
	p, err := Start("d", daemonCmd("sleep-before=200ms,unix="+sock), logs)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WaitReady(context.Background(), 10*time.Second, UnixSocket(sock)); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(5 * time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if testkit.Alive(p.Pid()) {
		t.Fatal("process alive after Stop")
	}
	text := logs.Text("d")
	for _, want := range []string{"matrixbox: starting", "daemon starting", "ready after", "stopped after"} {
		if !strings.Contains(text, want) {
			t.Errorf("log lacks %q:\n%s", want, text)
		}
	}
}

func TestProcessReadyOnLogLineAndTCP(t *testing.T) {
	logs := NewLogs()
	p, err := Start("d", daemonCmd("sleep-before=100ms,say=listening now"), logs)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(time.Second)
	if err := p.WaitReady(context.Background(), 10*time.Second, LogLine(logs, "d", "listening now")); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := tcpProbe(l.Addr().String())(context.Background()); err != nil {
		t.Fatalf("TCP probe on a listening port: %v", err)
	}
	l.Close()
	if err := tcpProbe(l.Addr().String())(context.Background()); err == nil {
		t.Fatal("TCP probe on a closed port succeeded")
	}
}

func TestWaitReadyGivesUpWhenProcessDies(t *testing.T) {
	logs := NewLogs()
	p, err := Start("d", daemonCmd("say=bad config,exit=7"), logs)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = p.WaitReady(context.Background(), 30*time.Second, UnixSocket("/nonexistent/x.sock"))
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "exit status 7") {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("waited %s for a dead process", time.Since(start))
	}
	if err := p.Stop(time.Second); err == nil || !strings.Contains(err.Error(), "had already exited") {
		t.Fatalf("Stop of a crashed daemon must report it, got %v", err)
	}
}

func TestWaitReadyTimeout(t *testing.T) {
	p, err := Start("d", daemonCmd("say=hi"), NewLogs())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(time.Second)
	err = p.WaitReady(context.Background(), 300*time.Millisecond, func(context.Context) error { return errors.New("not yet") })
	if err == nil || !strings.Contains(err.Error(), "not ready after 300ms: not yet") {
		t.Fatalf("err = %v", err)
	}
}

func TestStopEscalatesToKillAndReapsGroup(t *testing.T) {
	logs := NewLogs()
	p, err := Start("d", daemonCmd("ignore-term,child"), logs)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WaitReady(context.Background(), 10*time.Second, LogLine(logs, "d", "child ")); err != nil {
		t.Fatal(err)
	}
	var child int
	for _, line := range strings.Split(logs.Text("d"), "\n") {
		if strings.HasPrefix(line, "child ") {
			child, _ = strconv.Atoi(strings.TrimPrefix(line, "child "))
		}
	}
	if child == 0 || !testkit.Alive(child) {
		t.Fatalf("grandchild not started: %q", logs.Text("d"))
	}
	err = p.Stop(300 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "did not stop within 300ms of SIGTERM; killed") {
		t.Fatalf("Stop err = %v", err)
	}
	testkit.WaitFor(t, 5*time.Second, fmt.Sprintf("grandchild %d to end with its daemon", child), func() (string, bool) {
		return testkit.StatLine(child), !testkit.Alive(child)
	})
	if testkit.Alive(p.Pid()) {
		t.Fatal("daemon alive")
	}
}

// A daemon killed from outside right before Stop is never reported as a
// clean stop: Stop looks at the kernel's view of the child, not only at
// whether the goroutine waiting for it has returned yet.
func TestStopReportsADaemonKilledFromOutside(t *testing.T) {
	for i := 0; i < 30; i++ {
		logs := NewLogs()
		p, err := Start("d", daemonCmd("say=up"), logs)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.WaitReady(context.Background(), 10*time.Second, LogLine(logs, "d", "up")); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(p.Pid(), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// The kill is delivered before kill(2) returns; the process may
		// take a moment to become a zombie, which Stop must wait out.
		testkit.WaitFor(t, 10*time.Second, "the SIGKILLed daemon to become a zombie", func() (string, bool) {
			return testkit.StatLine(p.Pid()), supervise.ExitedUnreaped(p.Pid())
		})
		err = p.Stop(5 * time.Second)
		if err == nil || !strings.Contains(err.Error(), "signal: killed") {
			t.Fatalf("round %d: Stop of a daemon SIGKILLed from outside returned %v; log:\n%s", i, err, logs.Text("d"))
		}
	}
}

// TestDoneAfterTheLastWordsAreLogged: what a process wrote before it exited
// is in its log when Done closes, however far behind the copier is, even
// while a child it left behind holds the output open. Callers decide on
// the log (buildkitd's clean stop is exit status 1 and a line saying why);
// a copier behind the exit made them take a clean stop for a failure, once
// in BuildKit's 512-case dockerfile suite.
func TestDoneAfterTheLastWordsAreLogged(t *testing.T) {
	slow := func() { time.Sleep(20 * time.Millisecond) } // a slow copier
	testHookOutputRead.Store(&slow)
	t.Cleanup(func() { testHookOutputRead.Store(nil) })
	logs := NewLogs()
	cmd := exec.Command("sh", "-c", `sleep 5 & seq 1 20000; echo last words $((6*7)); exit 3`)
	p, err := Start("talker", cmd, logs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop(time.Second) })
	<-p.Done()
	if text := logs.Text("talker"); !strings.Contains(text, "last words 42") {
		t.Fatalf("the log at Done lacks the process's last line (%d bytes logged)", len(text))
	}
}
