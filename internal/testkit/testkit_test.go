package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// envChild makes TestChildBody act as a child process: "pass", "fail",
// or "wait" (say ready, then wait for a signal).
const envChild = "TESTKIT_TEST_CHILD"

// TestChildBody is the body of the child processes of the tests below and
// does nothing unless started by them.
func TestChildBody(t *testing.T) {
	switch os.Getenv(envChild) {
	case "":
		t.Skip("runs only as a child process of this package's tests")
	case "pass":
		fmt.Println("child says hello")
		t.Attr("cell", "worker=host")
	case "fail":
		fmt.Fprintln(os.Stderr, "child fails")
		t.Fail()
	case "wait":
		fmt.Println("ready")
		select {}
	}
}

func child(mode string, args ...string) *exec.Cmd {
	cmd := exec.Command(Self(), append([]string{"-test.run=^TestChildBody$", "-test.v"}, args...)...)
	cmd.Env = append(Environ(nil), envChild+"="+mode)
	return cmd
}

// fakeT records what a test helper reports; Fatal and Skip end the
// goroutine as testing.T's do.
type fakeT struct {
	testing.TB
	failed  bool
	skipped bool
	msg     string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeT) Fatal(args ...any) {
	f.failed, f.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

// run calls fn with a fakeT on a goroutine of its own and returns the
// record once fn has returned or ended the goroutine.
func run(fn func(t testing.TB)) *fakeT {
	f := &fakeT{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}

func TestWaitForTimeoutSaysWhatAndTheLastState(t *testing.T) {
	n := 0
	start := time.Now()
	f := run(func(t testing.TB) {
		WaitFor(t, 100*time.Millisecond, "the answer to be 42", func() (string, bool) {
			n++
			return fmt.Sprintf("answer %d", n), false
		})
	})
	if !f.failed {
		t.Fatal("WaitFor did not fail on timeout")
	}
	if took := time.Since(start); took < 100*time.Millisecond {
		t.Errorf("WaitFor gave up after %s, before its timeout", took)
	}
	want := fmt.Sprintf("timed out after 100ms waiting for the answer to be 42; last seen:\nanswer %d", n)
	if f.msg != want {
		t.Errorf("message %q, want %q", f.msg, want)
	}
	if n < 2 {
		t.Errorf("check called %d times, want it polled", n)
	}
}

func TestWaitForReturnsOnceDone(t *testing.T) {
	n := 0
	f := run(func(t testing.TB) {
		WaitFor(t, time.Minute, "three calls", func() (string, bool) { n++; return "", n == 3 })
	})
	if f.failed || n != 3 {
		t.Errorf("failed %v (%s) after %d calls, want success after 3", f.failed, f.msg, n)
	}
}

func TestPollGivesTheLastState(t *testing.T) {
	state, done := Poll(30*time.Millisecond, func() (string, bool) { return "never", false })
	if done || state != "never" {
		t.Errorf("Poll = %q, %v", state, done)
	}
	state, done = Poll(time.Minute, func() (string, bool) { return "at once", true })
	if !done || state != "at once" {
		t.Errorf("Poll = %q, %v", state, done)
	}
}

func TestRunSaysPassOrFail(t *testing.T) {
	out, ok := Run(t, child("pass"))
	if !ok || !strings.Contains(out, "child says hello") || !strings.Contains(out, "--- PASS: TestChildBody") {
		t.Errorf("passing child: ok=%v\n%s", ok, out)
	}
	out, ok = Run(t, child("fail"))
	if ok || !strings.Contains(out, "child fails") || !strings.Contains(out, "--- FAIL: TestChildBody") {
		t.Errorf("failing child: ok=%v\n%s", ok, out)
	}
	missing := filepath.Join(t.TempDir(), "missing")
	f := run(func(ft testing.TB) { Run(ft, exec.Command(missing)) })
	if !f.failed {
		t.Error("a binary that does not exist did not fail the test")
	}
}

func TestStartReadsOutputWhileItRuns(t *testing.T) {
	c := Start(t, child("wait"))
	WaitFor(t, 30*time.Second, "the child to say ready", func() (string, bool) {
		return c.Output(), strings.Contains(c.Output(), "ready\n")
	})
	if pgid, err := syscall.Getpgid(c.Pid()); err != nil || pgid != c.Pid() {
		t.Errorf("child's process group %d (%v), want its own %d", pgid, err, c.Pid())
	}
	if err := syscall.Kill(-c.Pid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Wait(); err == nil {
		t.Error("a child killed by SIGTERM exited 0")
	}
}

func TestStartKillsWhatTheTestLeaves(t *testing.T) {
	var c *Child
	t.Run("leaves", func(t *testing.T) {
		c = Start(t, child("wait"))
	})
	if c.Cmd.ProcessState == nil {
		t.Fatal("the child left running was not waited for at the end of its test")
	}
}

func TestEventsOfAJSONRun(t *testing.T) {
	cmd := JSONCommand(t, Self(), "-test.run=^TestChildBody$")
	cmd.Env = append(Environ(nil), envChild+"=pass")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var pass, attr, output bool
	for _, ev := range Events(append([]byte("not json\n"), out...)) {
		if ev.Test != "TestChildBody" {
			continue
		}
		switch {
		case ev.Action == "pass":
			pass = true
		case ev.Action == "attr" && ev.Key == "cell" && ev.Value == "worker=host":
			attr = true
		case ev.Action == "output" && ev.Output == "child says hello\n":
			output = true
		}
	}
	if !pass || !attr || !output {
		t.Errorf("events: pass %v, attr %v, output %v, want all:\n%s", pass, attr, output, out)
	}
}

func TestEnviron(t *testing.T) {
	t.Setenv("MATRIXBOX_TESTKIT", "1")
	t.Setenv("TESTKIT_KEPT", "1")
	env := strings.Join(Environ(MatrixboxVar), "\n")
	if strings.Contains(env, "MATRIXBOX_TESTKIT=") || !strings.Contains(env, "TESTKIT_KEPT=1") {
		t.Errorf("Environ(MatrixboxVar):\n%s", env)
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	WriteFiles(t, dir, map[string]string{"a.json": `{"n": 1}`, "d/e/b.txt": "b\n"})
	if got := ReadFile(t, filepath.Join(dir, "d", "e", "b.txt")); got != "b\n" {
		t.Errorf("b.txt = %q", got)
	}
	var v struct{ N int }
	ReadJSON(t, filepath.Join(dir, "a.json"), &v)
	if v.N != 1 {
		t.Errorf("a.json decoded to %+v", v)
	}
	WriteFile(t, filepath.Join(dir, "bad.json"), "{")
	f := run(func(ft testing.TB) { ReadJSON(ft, filepath.Join(dir, "bad.json"), &v) })
	if !f.failed || !strings.Contains(f.msg, "bad.json") {
		t.Errorf("bad JSON: failed %v, message %q", f.failed, f.msg)
	}
	f = run(func(ft testing.TB) { ReadFile(ft, filepath.Join(dir, "missing")) })
	if !f.failed {
		t.Error("reading a missing file did not fail")
	}
}

func TestTail(t *testing.T) {
	if got := Tail("abcdef", 3); got != "…def" {
		t.Errorf("Tail = %q", got)
	}
	if got := Tail("ab", 3); got != "ab" {
		t.Errorf("Tail = %q", got)
	}
}
