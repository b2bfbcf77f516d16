package loadtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/internal/supervise"
	"github.com/matrixbox/matrixbox/internal/testkit"
	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

const (
	// EnvLoad turns the load test on: it takes minutes.
	EnvLoad = "MATRIXBOX_LOAD"

	processes = 3
	cases     = 200 // per worker, per process

	// Bounds per test process: generous, but a descriptor or memory leak
	// per case (1,200 cases a process) crosses them.
	maxFDs = 1000
	maxHWM = 2 << 30
)

// passLine is a passing case's line; the containerd worker's cells carry
// its version level (worker=containerd/containerd=v2.4.2).
var passLine = regexp.MustCompile(`(?m)^\s*--- PASS: TestLoad/TestEcho\d+/worker=(host|containerd)(?:/containerd=[^ /]+)? \(`)

type loadChild struct {
	cmd   *exec.Cmd
	kid   *testkit.Child
	tmp   string // TMPDIR: the child's sandbox dirs go here
	stats string
	stop  func() Usage
	peak  Usage
	wall  time.Duration
	err   error
}

func TestLoad(t *testing.T) {
	if os.Getenv(EnvLoad) != "1" {
		t.Skipf("set %s=1 to run the load test: three go test processes of %d cases on host and containerd at once, a few minutes", EnvLoad, 2*cases)
	}
	if c, ok := workers.Containerd().(sandbox.Checker); ok {
		if err := c.Check(); err != nil {
			t.Skipf("containerd worker unavailable: %v", err)
		}
	}
	bin := testkit.BuildTest(t, "./testdata/suite")

	mirrorDir := t.TempDir()
	parallel := 2 * runtime.NumCPU()
	env := testkit.Environ(func(k string) bool { return testkit.MatrixboxVar(k) && k != "MATRIXBOX_BIN" })
	env = append(env,
		"MATRIXBOX_PARALLEL="+strconv.Itoa(parallel),
		mirror.EnvDir+"="+mirrorDir,
		"MATRIXBOX_CONFIG=none",
		fmt.Sprintf("LOAD_CASES=%d", cases))

	children := make([]*loadChild, processes)
	for i := range children {
		// Short, so that sandbox dirs (and their sockets) go under it.
		tmp, err := os.MkdirTemp("/tmp", "mbxload")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(tmp) })
		c := &loadChild{tmp: tmp, stats: filepath.Join(t.TempDir(), "stats.json")}
		c.cmd = exec.Command(bin, "-test.run", "^TestLoad$", "-test.v", "-test.count=1", "-test.timeout=30m")
		c.cmd.Env = append(append([]string(nil), env...), "TMPDIR="+tmp, "LOAD_STATS="+c.stats)
		children[i] = c
	}
	start := time.Now()
	for _, c := range children {
		c.kid = testkit.Start(t, c.cmd)
		c.stop = Watch(c.cmd.Process.Pid, 50*time.Millisecond)
	}
	var wg sync.WaitGroup
	for _, c := range children {
		wg.Go(func() {
			// Samples of the exited child fail and are ignored; VmHWM only
			// grows, so the last one taken while it ran holds its peak.
			_, c.err = c.kid.Wait()
			c.wall = time.Since(start)
			c.peak = c.stop()
		})
	}
	wg.Wait()
	total := time.Since(start)

	var copies, hits int
	for i, c := range children {
		pid := c.cmd.Process.Pid
		out := c.kid.Output()
		if c.err != nil {
			t.Errorf("process %d (pid %d): %v\n%s", i, pid, c.err, testkit.Tail(out, 6000))
		}
		perWorker := map[string]int{}
		for _, m := range passLine.FindAllStringSubmatch(out, -1) {
			perWorker[m[1]]++
		}
		if perWorker["host"] != cases || perWorker["containerd"] != cases {
			t.Errorf("process %d: passing cases %v, want %d on each of host and containerd\n%s", i, perWorker, cases, testkit.Tail(out, 6000))
		}
		if c.peak.FDs == 0 || c.peak.HWM == 0 {
			t.Errorf("process %d: no usage sampled (%+v)", i, c.peak)
		}
		if c.peak.FDs >= maxFDs {
			t.Errorf("process %d: peak open descriptors %d, bound %d", i, c.peak.FDs, maxFDs)
		}
		if c.peak.HWM >= maxHWM {
			t.Errorf("process %d: peak RSS %d MiB, bound %d MiB", i, c.peak.HWM>>20, maxHWM>>20)
		}
		var s struct{ Hits, Copies int }
		if b, err := os.ReadFile(c.stats); err != nil {
			t.Errorf("process %d wrote no mirror stats: %v", i, err)
		} else if err := json.Unmarshal(b, &s); err != nil {
			t.Errorf("process %d mirror stats %q: %v", i, b, err)
		}
		copies += s.Copies
		hits += s.Hits
		checkNothingLeft(t, i, pid, c.tmp)
		t.Logf("process %d (pid %d): %d cases passed in %.1fs, peak %d open descriptors, peak RSS %d MiB, mirror copies %d hits %d",
			i, pid, perWorker["host"]+perWorker["containerd"], c.wall.Seconds(), c.peak.FDs, c.peak.HWM>>20, s.Copies, s.Hits)
	}

	journal := busyboxCopies(t, mirrorDir)
	if journal != 1 {
		t.Errorf("copies.log records %d copies of library/busybox:latest, want 1", journal)
	}
	if copies != 1 || hits != processes-1 {
		t.Errorf("mirror stats over %d processes: %d copies, %d hits; want 1 copy and %d hits", processes, copies, hits, processes-1)
	}
	t.Logf("%d processes × %d cases (MATRIXBOX_PARALLEL=%d) in %.1fs; busybox copied %d time(s) into the shared mirror",
		processes, 2*cases, parallel, total.Seconds(), journal)
}

// busyboxCopies counts the copies of busybox the mirror's journal records.
func busyboxCopies(t *testing.T, dir string) int {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "copies.log"))
	if err != nil {
		t.Errorf("mirror journal: %v", err)
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e struct{ Target string }
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Errorf("copies.log line %q: %v", sc.Text(), err)
			continue
		}
		if e.Target == "library/busybox:latest" {
			n++
		}
	}
	return n
}

// checkNothingLeft: no process marked with the child as owner runs, and its
// TMPDIR holds no sandbox dir and no mount.
func checkNothingLeft(t *testing.T, i, pid int, tmp string) {
	t.Helper()
	var left []supervise.Proc
	testkit.Poll(10*time.Second, func() (string, bool) {
		left = supervise.ProcessesOf(pid)
		return "", len(left) == 0
	})
	for _, p := range left {
		t.Errorf("process %d left running: %d %s", i, p.Pid, p.Cmdline)
		_ = syscall.Kill(p.Pid, syscall.SIGKILL)
	}
	if m := supervise.MountsUnder(tmp); len(m) > 0 {
		t.Errorf("process %d left mounts: %v", i, m)
	}
	entries, _ := os.ReadDir(tmp)
	for _, e := range entries {
		t.Errorf("process %d left %s in its TMPDIR", i, filepath.Join(tmp, e.Name()))
	}
}
