package faulttest

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/internal/bridge"
	"github.com/matrixbox/matrixbox/internal/testkit"
)

// realWorkers are the workers of testdata/realsuite, each of which puts
// work in flight (a RUN step, a container) before the fault; a worker
// with several cells there is named with the axis value of one
// ("dockerd/moby=v20.10").
var realWorkers = []string{"buildkitd-oci", "buildkitd-containerd", "containerd",
	"dockerd/moby=v29.8.1", "dockerd/moby=v20.10", "dockerd-containerd",
	"buildkitd-oci-rootless", "buildkitd-containerd-rootless"}

var realBin string

// buildReal compiles the real-daemon fixture once.
func buildReal(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the real daemons need root")
	}
	if realBin == "" {
		out := filepath.Join(filepath.Dir(suiteBin), "realsuite.test")
		if err := testkit.CompileTest("./testdata/realsuite", out); err != nil {
			t.Fatalf("build the fixture: %v", err)
		}
		realBin = out
	}
	return realBin
}

// realChild is one run of the fixture on one worker.
type realChild struct {
	*child
	token string
	// rules is what iptables had before the run, to tell what the run
	// added.
	rules []string
}

// startReal runs the real fixture's TestInFlight on worker with
// FAULT=fault; its output can be read while it runs.
func startReal(t *testing.T, worker, fault string, args ...string) *realChild {
	t.Helper()
	return startRealEnv(t, worker, fault, nil, args...)
}

// startRealEnv is startReal with env added to the child's environment.
func startRealEnv(t *testing.T, worker, fault string, env []string, args ...string) *realChild {
	t.Helper()
	return startRealVia(t, nil, worker, fault, env, args...)
}

// startRealVia is startRealEnv with the fixture run by the command via,
// which ends by executing its arguments (so the child's pid is the
// fixture's): a shell that changes what the fixture inherits.
func startRealVia(t *testing.T, via []string, worker, fault string, env []string, args ...string) *realChild {
	t.Helper()
	bin := buildReal(t)
	dir := t.TempDir()
	// A sleep no other process on the machine sleeps for.
	tok := strconv.Itoa(100000 + rand.IntN(800000))
	argv := append(append(slices.Clone(via), bin, "-test.v", "-test.count=1", "-test.run=^TestInFlight$"), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "FAULT="+fault, "FAULT_DIR="+dir, "FAULT_TOKEN="+tok,
		"MATRIXBOX_SELECT=worker="+strings.ReplaceAll(worker, "/", ","), "MATRIXBOX_CONFIG=none")
	cmd.Env = append(cmd.Env, env...)
	rc := &realChild{token: tok, rules: iptablesRules()}
	rc.child = &child{Child: testkit.Start(t, cmd), dir: dir}
	return rc
}

// checkNothingLeft checks, at once and again 5 s later, that nothing of
// the run is left: no process in the cgroups of its sandboxes, none of the
// processes that were in them before the fault, no process sleeping the
// run's token anywhere on the machine (whoever its parent now is), no
// cgroup, mount or directory of the run, no network bridge of its test
// process, no iptables rule the run added.
func (c *realChild) checkNothingLeft(t *testing.T) {
	t.Helper()
	owners := c.lines("owner")
	if len(owners) == 0 {
		t.Fatalf("child recorded no owner pid; output:\n%s", c.Output())
	}
	owner := owners[0]
	for _, when := range []string{"at once", "5 s later"} {
		if when != "at once" {
			time.Sleep(5 * time.Second)
		}
		for _, p := range tokenProcesses(c.token) {
			t.Errorf("%s: the work in flight still runs: pid %d (parent %d) %s", when, p.pid, p.ppid, p.cmdline)
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
		}
		for _, pid := range c.lines("pids") {
			if n, _ := strconv.Atoi(pid); n > 0 && running(n) {
				cl, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", n))
				cg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", n))
				t.Errorf("%s: process %d of the sandbox's cgroup still runs: %q in\n%s", when, n, cl, cg)
			}
		}
		for _, cg := range ownedCgroups(owner) {
			t.Errorf("%s: cgroup left: %s", when, cg)
		}
		for _, m := range ownedMounts(owner) {
			t.Errorf("%s: mount left: %s", when, m)
		}
		for _, left := range c.runStateLeft(owner) {
			t.Errorf("%s: %s", when, left)
		}
		for _, d := range c.lines("dirs") {
			if _, err := os.Stat(d); err == nil {
				t.Errorf("%s: sandbox dir left: %s", when, d)
			}
		}
		// Bridges carry their test process's pid in their alias; other
		// test processes on the machine (a concurrent package's dockerd)
		// make and remove bridges of their own.
		for name, o := range bridge.Owned() {
			if strconv.Itoa(o.PID) == owner {
				t.Errorf("%s: network bridge left: %s (sandbox %s)", when, name, o.Sandbox)
			}
		}
		if added := newItems(c.rules, iptablesRules()); len(added) > 0 {
			t.Errorf("%s: iptables rules added: %v", when, added)
		}
	}
}

func TestRealDaemonsSignalsMidRun(t *testing.T) {
	for _, w := range realWorkers {
		for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGINT, syscall.SIGTERM} {
			t.Run(w+"/"+sig.String(), func(t *testing.T) {
				c := startReal(t, w, "hang")
				c.waitFor(t, "ready", 1)
				_ = syscall.Kill(c.Pid(), sig)
				out := c.wait(t)
				if !strings.Contains(out, "ended without cleaning up") {
					t.Errorf("the guard did not say what it removed:\n%s", out)
				}
				c.checkNothingLeft(t)
			})
		}
	}
}

func TestRealDaemonsOsExit(t *testing.T) {
	for _, w := range realWorkers {
		t.Run(w, func(t *testing.T) {
			c := startReal(t, w, "exit")
			out := c.wait(t)
			if !strings.Contains(out, "ended without cleaning up") {
				t.Errorf("the guard did not say what it removed:\n%s", out)
			}
			c.checkNothingLeft(t)
		})
	}
}

func TestRealDaemonsTimeout(t *testing.T) {
	for _, w := range []string{"buildkitd-oci", "containerd", "buildkitd-oci-rootless", "buildkitd-containerd-rootless"} {
		t.Run(w, func(t *testing.T) {
			c := startReal(t, w, "hang", "-test.timeout=25s")
			out := c.wait(t)
			for _, want := range []string{"panic: test timed out after 25s", "ended without cleaning up"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			c.checkNothingLeft(t)
		})
	}
}

// The daemon dies while its container runs and the test process lives: the
// case fails saying how the daemon died, and the sandbox's close kills the
// orphaned container and says so.
func TestRealDaemonKilledDuringWork(t *testing.T) {
	for _, w := range realWorkers {
		t.Run(w, func(t *testing.T) {
			c := startReal(t, w, "kill-daemon")
			out := c.wait(t)
			for _, want := range []string{"--- FAIL: TestInFlight/TestInFlight/worker=" + w, "had already exited: signal: killed", "leaked processes (killed)", "sleep " + c.token} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, "ended without cleaning up") {
				t.Errorf("the test process did not clean up itself:\n%s", out)
			}
			c.checkNothingLeft(t)
		})
	}
}

// With its guard killed too, a SIGKILLed test process leaves its sandbox
// behind; the next run's reaper removes it all (dockerd's network bridge
// included) and says so.
func TestRealDaemonsReapedByTheNextRun(t *testing.T) {
	for _, w := range []string{"buildkitd-oci", "dockerd/moby=v29.8.1", "dockerd/moby=v20.10", "dockerd-containerd",
		"buildkitd-oci-rootless", "buildkitd-containerd-rootless"} {
		t.Run(w, func(t *testing.T) { testReapedByTheNextRun(t, w) })
	}
}

func testReapedByTheNextRun(t *testing.T, worker string) {
	c := startReal(t, worker, "hang")
	c.waitFor(t, "ready", 1)
	guard := guardOf(c.Pid())
	if guard == 0 {
		t.Fatal("no guard found for the child")
	}
	_ = syscall.Kill(guard, syscall.SIGKILL)
	_ = syscall.Kill(c.Pid(), syscall.SIGKILL)
	c.wait(t)
	// What checkNothingLeft looks for must be there now.
	if len(ownedCgroups(c.lines("owner")[0])) == 0 {
		t.Fatal("precondition: with no guard, the killed test process should leave its sandbox's cgroup")
	}
	// buildkitd's RUN step outlives its test process; dockerd's container
	// dies with the dockerd, which leaves its sandbox and bridge behind.
	outlived := len(tokenProcesses(c.token)) > 0
	if strings.HasPrefix(worker, "buildkitd-oci") && !outlived {
		t.Fatal("precondition: with no guard, the work in flight should outlive its test process")
	}
	// Any next run of any suite reaps: here the quick one of fault_test.go.
	next := start(t, "quiet")
	out := next.wait(t)
	if !strings.Contains(out, "--- PASS: TestSuite") {
		t.Errorf("the next run failed:\n%s", out)
	}
	wants := []string{"removed what earlier test processes that died left behind", "cgroup matrixbox/mbx-" + c.lines("owner")[0] + "."}
	if outlived {
		wants = append(wants, "sleep "+c.token)
	}
	if strings.HasPrefix(worker, "dockerd") {
		wants = append(wants, "network bridge mbxbr")
	}
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("the next run's report lacks %q:\n%s", want, out)
		}
	}
	c.checkNothingLeft(t)
}

type procInfo struct {
	pid, ppid int
	cmdline   string
}

func allProcesses() []procInfo {
	ents, _ := os.ReadDir("/proc")
	var out []procInfo
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(st, ')')
		f := strings.Fields(string(st[i+2:]))
		if len(f) < 2 || f[0] == "Z" {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		cl, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		out = append(out, procInfo{pid, ppid, strings.TrimSpace(strings.ReplaceAll(string(cl), "\x00", " "))})
	}
	return out
}

func tokenProcesses(tok string) []procInfo {
	var out []procInfo
	for _, p := range allProcesses() {
		if strings.HasSuffix(p.cmdline, " "+tok) {
			out = append(out, p)
		}
	}
	return out
}

// guardOf is the pid of the guard of test process pid: the process whose
// MATRIXBOX_GUARD_FOR names it (<pid>.<start>:<proof>).
func guardOf(pid int) int {
	want := []byte(fmt.Sprintf("\x00MATRIXBOX_GUARD_FOR=%d.", pid))
	for _, p := range allProcesses() {
		env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", p.pid))
		if bytes.Contains(append([]byte{0}, env...), want) {
			return p.pid
		}
	}
	return 0
}

func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && !bytes.Contains(b, []byte(") Z "))
}

// ownedCgroups lists the cgroup directories, in any hierarchy, of the
// sandboxes of test process owner.
func ownedCgroups(owner string) []string {
	var out []string
	// A group is named mbx-<pid>.<start>-<n> (mbx-<pid>-<n> before the
	// start was known). Not "[.-]": Glob takes "-]" for an unfinished
	// range and matches nothing.
	for _, root := range []string{"/sys/fs/cgroup/*/matrixbox/", "/sys/fs/cgroup/matrixbox/"} {
		for _, sep := range []string{".", "-"} {
			gs, _ := filepath.Glob(root + "mbx-" + owner + sep + "*")
			out = append(out, gs...)
		}
	}
	return out
}

// runStateLeft lists what the run's daemons have under the machine's /run
// (issue 24 item 6): runc state, under runc's default root and containerd's,
// of a container in a cgroup or a bundle of test process owner; a shim
// socket the run's tasks named; the stdio fifos of the run's tasks, which
// a containerd client shares with the shims, so that there are some
// while a buildkitd-containerd case runs.
func (c *realChild) runStateLeft(owner string) []string {
	var out []string
	states, _ := filepath.Glob("/run/containerd/runc/*/*/state.json")
	more, _ := filepath.Glob("/run/runc/*/state.json")
	for _, st := range append(states, more...) {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		for _, mark := range []string{"/mbx-" + owner + "-", "/mbx-" + owner + "."} {
			if strings.Contains(string(b), mark) {
				out = append(out, "runc state "+filepath.Dir(st))
				break
			}
		}
	}
	for _, sock := range c.lines("sockets") {
		if _, err := os.Lstat(sock); err == nil {
			out = append(out, "containerd shim socket "+sock)
		}
	}
	for _, id := range c.lines("tasks") {
		fifos, _ := filepath.Glob("/run/containerd/fifo/*/" + id + "-std*")
		for _, f := range fifos {
			out = append(out, "fifo "+f)
		}
	}
	return out
}

func ownedMounts(owner string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "/mbx-"+owner+"-") || strings.Contains(sc.Text(), "/mbx-"+owner+".") {
			out = append(out, sc.Text())
		}
	}
	return out
}

func iptablesRules() []string {
	var rules []string
	for _, tool := range []string{"iptables-save", "ip6tables-save"} {
		out, err := exec.Command(tool).Output()
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "-") || strings.HasPrefix(l, ":") && !strings.HasPrefix(l, ":INPUT") && !strings.HasPrefix(l, ":OUTPUT") && !strings.HasPrefix(l, ":FORWARD") && !strings.HasPrefix(l, ":PREROUTING") && !strings.HasPrefix(l, ":POSTROUTING") {
				rules = append(rules, tool+" "+strings.Fields(l)[0])
			}
		}
	}
	return rules
}

func newItems(before, after []string) []string {
	var out []string
	for _, a := range after {
		if !slices.Contains(before, a) {
			out = append(out, a)
		}
	}
	return out
}
