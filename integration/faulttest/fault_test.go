package faulttest

import (
	"bytes"
	"context"
	"fmt"
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
	"github.com/matrixbox/matrixbox/mirror"
)

var suiteBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "faulttest")
	if err != nil {
		panic(err)
	}
	suiteBin = filepath.Join(dir, "suite.test")
	if err := testkit.CompileTest("./testdata/suite", suiteBin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// child is one run of a fixture binary; its output can be read while it
// runs.
type child struct {
	*testkit.Child
	dir string
}

// start runs the suite binary with FAULT=fault, in a fresh process group so
// signals reach only it.
func start(t *testing.T, fault string, args ...string) *child {
	t.Helper()
	return startEnv(t, fault, nil, args...)
}

func startEnv(t *testing.T, fault string, env []string, args ...string) *child {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(suiteBin, append([]string{"-test.v", "-test.count=1"}, args...)...)
	cmd.Env = append(os.Environ(), "FAULT="+fault, "FAULT_DIR="+dir)
	cmd.Env = append(cmd.Env, env...)
	return &child{Child: testkit.Start(t, cmd), dir: dir}
}

// waitFor waits until the child has written n lines to file.
func (c *child) waitFor(t *testing.T, file string, n int) {
	t.Helper()
	testkit.WaitFor(t, 60*time.Second, fmt.Sprintf("the child to write %d lines to %s", n, file), func() (string, bool) {
		return c.Output(), len(c.lines(file)) >= n
	})
}

func (c *child) lines(file string) []string {
	b, _ := os.ReadFile(filepath.Join(c.dir, file))
	return strings.Fields(string(b))
}

// wait waits for the child and for its guard: the guard shares the
// child's output pipe, and Wait returns once every holder of it has closed
// it, so the guard's report is complete.
func (c *child) wait(t *testing.T) string {
	t.Helper()
	out, _ := c.Wait()
	return out
}

// checkNothingLeft asserts that no process carrying the child's owner mark
// runs, and no sandbox dir of it or mount under one remains.
func (c *child) checkNothingLeft(t *testing.T) {
	t.Helper()
	owners := c.lines("owner")
	if len(owners) == 0 {
		t.Fatal("child recorded no owner pid")
	}
	ownerPid, _ := strconv.Atoi(owners[0])
	var left []supervise.Proc
	testkit.Poll(10*time.Second, func() (string, bool) {
		left = supervise.ProcessesOf(ownerPid)
		return "", len(left) == 0
	})
	for _, p := range left {
		t.Errorf("process left running: %d %s", p.Pid, p.Cmdline)
		_ = syscall.Kill(p.Pid, syscall.SIGKILL)
	}
	for _, pid := range c.lines("pids") {
		n, _ := strconv.Atoi(pid)
		if syscall.Kill(n, 0) == nil {
			if b, _ := os.ReadFile("/proc/" + pid + "/stat"); !bytes.Contains(b, []byte(") Z ")) {
				t.Errorf("daemon %s still running", pid)
			}
		}
	}
	for _, d := range c.lines("dirs") {
		root := filepath.Dir(d)
		if _, err := os.Stat(root); err == nil {
			t.Errorf("sandbox dir %s left behind", root)
		}
		if m := supervise.MountsUnder(root); len(m) > 0 {
			t.Errorf("mounts left under %s: %v", root, m)
		}
	}
}

func TestSignalsMidRun(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			c := start(t, "hang")
			c.waitFor(t, "ready", 2)
			_ = syscall.Kill(c.Pid(), sig)
			out := c.wait(t)
			if !strings.Contains(out, "ended without cleaning up") {
				t.Errorf("output does not name the cause:\n%s", out)
			}
			c.checkNothingLeft(t)
		})
	}
}

func TestTimeoutExpiry(t *testing.T) {
	// The watchdog fires 30 s before the deadline, at 3 s; the case sleeps
	// on regardless, so go test's timeout panic kills the binary and the
	// guard cleans up after it.
	c := start(t, "hang", "-test.timeout=33s")
	out := c.wait(t)
	for _, want := range []string{"watchdog: case still running after", "panic: test timed out after 33s", "ended without cleaning up"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The watchdog fires 30 s before the deadline, so its report comes
	// before Go's timeout panic (how long after the case's start depends on
	// how long the process took to get there: the machine may be loaded).
	if w, p := strings.Index(out, "watchdog: case still running after"), strings.Index(out, "panic: test timed out"); w < 0 || p < 0 || w > p {
		t.Errorf("the watchdog did not fire before -timeout:\n%s", out)
	}
	c.checkNothingLeft(t)
}

func TestPanickingTest(t *testing.T) {
	c := start(t, "panic")
	out := c.wait(t)
	if !strings.Contains(out, "test panicked: FAULT-PANIC") || !strings.Contains(out, "leaked process") {
		t.Errorf("output:\n%s", out)
	}
	if n := strings.Count(out, "--- PASS: TestSuite/TestQuiet"); n != 2 {
		t.Errorf("%d quiet cases passed, want 2", n)
	}
	c.checkNothingLeft(t)
}

func TestPanicOffTheTestGoroutine(t *testing.T) {
	c := start(t, "goroutine-panic")
	out := c.wait(t)
	if !strings.Contains(out, "FAULT-GOROUTINE-PANIC") || !strings.Contains(out, "ended without cleaning up") {
		t.Errorf("output:\n%s", out)
	}
	c.checkNothingLeft(t)
}

// An os.Exit within milliseconds of the first case, 30 times: the guard,
// which may not even have finished starting, removes everything each time
// and says so.
func TestOsExitInATest(t *testing.T) {
	for i := 0; i < 30; i++ {
		c := start(t, "exit")
		out := c.wait(t)
		if !strings.Contains(out, "ended without cleaning up") {
			t.Errorf("round %d: the guard said nothing:\n%s", i, out)
		}
		c.checkNothingLeft(t)
		if t.Failed() {
			return
		}
	}
}

func TestTestProcessKilled(t *testing.T) {
	c := start(t, "hang")
	c.waitFor(t, "ready", 2)
	_ = syscall.Kill(c.Pid(), syscall.SIGKILL)
	out := c.wait(t)
	if !strings.Contains(out, "ended without cleaning up") {
		t.Errorf("output:\n%s", out)
	}
	c.checkNothingLeft(t)
}

func TestDaemonKilledMidTest(t *testing.T) {
	c := start(t, "kill-daemon")
	out := c.wait(t)
	// The case whose daemon died fails with the daemon's log and how it
	// exited; the others pass.
	for _, want := range []string{"--- FAIL: TestSuite/TestFault/worker=sleepd/n=2", "sleepd had already exited: signal: killed", "sleepd up"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "--- PASS"); n != 3 {
		t.Errorf("%d cases passed, want 3:\n%s", n, out)
	}
	c.checkNothingLeft(t)
}

func TestDaemonNeverReady(t *testing.T) {
	c := start(t, "never-ready")
	out := c.wait(t)
	for _, want := range []string{"sleepd not ready after 2s", "sleepd up", "--- FAIL: TestSuite/TestFault/worker=sleepd/n=2", "--- FAIL: TestSuite/TestQuiet/worker=sleepd/n=2"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "--- PASS"); n != 2 {
		t.Errorf("%d cases passed, want 2", n)
	}
	c.checkNothingLeft(t)
}

func TestDiskFullInSandboxDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	tmp, err := os.MkdirTemp("/tmp", "full")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	if err := syscall.Mount("tmpfs", tmp, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	defer syscall.Unmount(tmp, syscall.MNT_DETACH)
	c := startEnv(t, "disk-full", []string{"TMPDIR=" + tmp})
	out := c.wait(t)
	if !strings.Contains(out, "no space left on device") || !strings.Contains(out, "--- FAIL: TestSuite/TestFault/worker=sleepd/n=2") {
		t.Errorf("output:\n%s", out)
	}
	c.checkNothingLeft(t)
	ents, _ := os.ReadDir(tmp)
	for _, e := range ents {
		t.Errorf("left on the full disk: %s", e.Name())
	}
}

func copiesLogged(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "copies.log"))
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\n")
}

func TestCorruptMirrorBlob(t *testing.T) {
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("needs a static /bin/busybox: apt-get install busybox-static")
	}
	dir := t.TempDir()
	env := []string{"FAULT_MIRROR=" + dir}
	first := startEnv(t, "mirror", env)
	if out := first.wait(t); !strings.Contains(out, "--- PASS: TestMirrored/TestPullsImage") {
		t.Fatalf("populating run:\n%s", out)
	}
	// Flip a byte in the middle of the largest blob: same size, wrong content.
	var biggest string
	var size int64
	filepath.WalkDir(filepath.Join(dir, "registry"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "data" {
			if fi, err := d.Info(); err == nil && fi.Size() > size {
				biggest, size = p, fi.Size()
			}
		}
		return nil
	})
	b, err := os.ReadFile(biggest)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(biggest, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := mirror.New(dir).Verify(context.Background()); err == nil {
		t.Fatal("Verify passed a damaged mirror")
	}
	c := startEnv(t, "mirror", env)
	out := c.wait(t)
	if !strings.Contains(out, "--- PASS: TestMirrored/TestPullsImage") {
		t.Errorf("run over the damaged mirror did not pass:\n%s", out)
	}
	if n := copiesLogged(t, dir); n != 2 {
		t.Errorf("copies.log has %d copies, want 2 (the damaged image copied again)", n)
	}
	if err := mirror.New(dir).Verify(context.Background()); err != nil {
		t.Errorf("after the run: %v", err)
	}
	c.checkNothingLeft(t)
}

func TestMirrorLockHeldByStuckProcess(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("needs flock(1) from util-linux")
	}
	dir := t.TempDir()
	stuck := exec.Command("flock", filepath.Join(dir, "lock"), "sleep", "600")
	stuck.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := stuck.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Kill(-stuck.Process.Pid, syscall.SIGKILL); _ = stuck.Wait() }()
	// Wait until the stuck process holds the lock.
	testkit.WaitFor(t, 10*time.Second, "flock to hold "+filepath.Join(dir, "lock"), func() (string, bool) {
		err := exec.Command("flock", "-n", filepath.Join(dir, "lock"), "true").Run()
		return fmt.Sprintf("flock -n: %v", err), err != nil
	})
	c := startEnv(t, "mirror", []string{"FAULT_MIRROR=" + dir, "MATRIXBOX_MIRROR_LOCK_TIMEOUT=2s"})
	out := c.wait(t)
	if !strings.Contains(out, "--- FAIL: TestMirrored") || !strings.Contains(out, filepath.Join(dir, "lock")) {
		t.Errorf("want the mirrored run to fail naming the lock:\n%s", out)
	}
	if !strings.Contains(out, "--- PASS: TestSuite") {
		t.Errorf("the suite that needs no mirror should still pass:\n%s", out)
	}
	if err := mirror.New(dir).Verify(context.Background()); err != nil {
		t.Errorf("mirror after the timeout: %v", err)
	}
	c.checkNothingLeft(t)
}

// Warm backends are kept until the process ends, when its guard removes
// them without calling them leftovers: a passing run with no TestMain says
// nothing, and leaves nothing.
func TestWarmBackendsRemovedQuietlyAtExit(t *testing.T) {
	for _, fault := range []string{"warm-shared", "warm-reset"} {
		t.Run(fault, func(t *testing.T) {
			c := start(t, fault)
			out := c.wait(t)
			if !strings.Contains(out, "--- PASS: TestSuite") {
				t.Fatalf("the run failed:\n%s", out)
			}
			if strings.Contains(out, "ended without cleaning up") {
				t.Errorf("the guard called the warm backends leftovers:\n%s", out)
			}
			if len(c.lines("pids")) == 0 {
				t.Fatal("precondition: no warm sleepd was started")
			}
			c.checkNothingLeft(t)
		})
	}
}

// MATRIXBOX_GUARD_FOR set by hand to a live test process's pid, as the
// issue's tester did, wipes nothing: the binary refuses to be a guard (its
// descriptor 3 is no guard's pipe) and says so, and the live process's
// daemons, command and dirs are untouched. Both the pid alone and the
// pid.start form with a made-up proof are tried.
func TestGuardForALiveProcessDoesNothing(t *testing.T) {
	c := start(t, "hang")
	c.waitFor(t, "ready", 2)
	owner := c.lines("owner")[0]
	id := owner
	if st, err := os.ReadFile("/proc/" + owner + "/stat"); err == nil {
		f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+2:]))
		id = owner + "." + f[19]
	}
	ownerPid, _ := strconv.Atoi(owner)
	// The hanging cases' daemons and commands, and their dirs (the quiet
	// cases have ended and cleaned up).
	var procs []supervise.Proc
	testkit.WaitFor(t, 10*time.Second, "the hanging cases' 4 processes", func() (string, bool) {
		procs = supervise.ProcessesOf(ownerPid)
		return fmt.Sprintf("%v\n%s", procs, c.Output()), len(procs) >= 4
	})
	var dirs []string
	for _, d := range c.lines("dirs") {
		if _, err := os.Stat(d); err == nil {
			dirs = append(dirs, d)
		}
	}
	if len(dirs) < 2 {
		t.Fatalf("precondition: the hanging cases have %d dirs, want 2", len(dirs))
	}
	for _, v := range []string{owner, id + ":" + strings.Repeat("00", 32)} {
		cmd := exec.Command(suiteBin, "-test.run=^$")
		cmd.Env = append(os.Environ(), "MATRIXBOX_GUARD_FOR="+v)
		out, err := cmd.CombinedOutput()
		if !strings.Contains(string(out), "was not started as a guard by its test process") {
			t.Errorf("MATRIXBOX_GUARD_FOR=%s: the binary did not refuse (%v):\n%s", v, err, out)
		}
		if strings.Contains(string(out), "ended without cleaning up") {
			t.Errorf("MATRIXBOX_GUARD_FOR=%s: the binary acted as a guard:\n%s", v, out)
		}
	}
	for _, p := range procs {
		if syscall.Kill(p.Pid, 0) != nil {
			t.Errorf("process %d (%s) of the live test process was killed", p.Pid, p.Cmdline)
		}
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("dir of the live test process removed: %v", err)
		}
	}
	_ = syscall.Kill(c.Pid(), syscall.SIGKILL)
	out := c.wait(t)
	if !strings.Contains(out, "ended without cleaning up") {
		t.Errorf("the real guard did not clean up:\n%s", out)
	}
	c.checkNothingLeft(t)
}
