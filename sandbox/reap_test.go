package sandbox

import (
	"bufio"
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

	"github.com/matrixbox/matrixbox/internal/testkit"
)

// The tests of the reaper make their leftovers under an owner key and a
// cgroup root of their own, so that a concurrent test process's reaper
// never takes them first.
const (
	testOwnerKey   = "MATRIXBOX_TEST_OWNER"
	testCgroupRoot = "matrixbox-reaptest"
)

func testScope(root string) scope {
	return scope{tmpRoot: root, ownerKey: testOwnerKey, cgroupRoot: testCgroupRoot}
}

// dieLeavingThingsBehind is the body of a test process that crashes: it
// makes a sandbox dir with a cgroup and a daemon in that cgroup whose own
// child outlives it, re-parented (as a container whose shim was killed is),
// and the same outside any cgroup, found only by its environment; it prints
// the two children and dies by SIGKILL, so no cleanup of its own runs.
func dieLeavingThingsBehind() {
	ownerKey, cgroupRoot = testOwnerKey, testCgroupRoot
	fail := func(err error) {
		fmt.Println("error", err)
		os.Exit(2)
	}
	dir, err := MkdirShort()
	if err != nil {
		fail(err)
	}
	g, err := newGroup(dir)
	if err != nil {
		fail(err)
	}
	logs := NewLogs()
	p, err := start("d", daemonCmd("child"), logs, g)
	if err != nil {
		fail(err)
	}
	e, err := Start("e", daemonCmd("child"), logs)
	if err != nil {
		fail(err)
	}
	if err := p.WaitReady(context.Background(), 10*time.Second, LogLine(logs, "d", "child ")); err != nil {
		fail(err)
	}
	if err := e.WaitReady(context.Background(), 10*time.Second, LogLine(logs, "e", "child ")); err != nil {
		fail(err)
	}
	for _, name := range []string{"d", "e"} {
		for _, line := range strings.Split(logs.Text(name), "\n") {
			if pid, ok := strings.CutPrefix(line, "child "); ok {
				fmt.Println(name, pid)
			}
		}
	}
	fmt.Println("dir", dir)
	fmt.Println("group", g.Name())
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
}

func TestReapRemovesLeftoversOfADeadRun(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("making cgroups needs root")
	}
	root, err := os.MkdirTemp("/tmp", "rt")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(root)
	cmd := exec.Command(testkit.Self(), "-test.run=^$")
	cmd.Env = append(os.Environ(), "MATRIXBOX_TEST_DIE=1", "TMPDIR="+root)
	out, _ := cmd.Output()
	var dir, group string
	var child, envOnly int
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		switch k {
		case "dir":
			dir = v
		case "group":
			group = v
		case "d":
			child, _ = strconv.Atoi(v)
		case "e":
			envOnly, _ = strconv.Atoi(v)
		case "error":
			t.Fatal(v)
		}
	}
	if dir == "" || group == "" || child == 0 || envOnly == 0 {
		t.Fatalf("dying process printed %q", out)
	}
	// The grandchild survived its owner, re-parented away from the daemon's
	// process group: exactly the leftover the cgroup exists for.
	if !alive(child) || !alive(envOnly) {
		t.Fatalf("precondition: %d and %d should have outlived their dead owner", child, envOnly)
	}
	// Our own leftovers are never reaped: a dir and a group of this process.
	mine, err := os.MkdirTemp(root, fmt.Sprintf("%s%d-", DirPrefix, os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		cgroupRoot = "matrixbox"
	}()
	cgroupRoot = testCgroupRoot
	myGroup, err := newGroup(mine)
	cgroupRoot = "matrixbox"
	if err != nil {
		t.Fatal(err)
	}
	dead := func(owner int) bool { return owner != os.Getpid() && !pidAlive(owner) }
	removed, err := removeOwned(testScope(root), dead, false)
	if err != nil {
		t.Fatal(err)
	}
	report := strings.Join(removed, "\n")
	for _, want := range []string{fmt.Sprintf("process %d ", child), fmt.Sprintf("process %d ", envOnly), "dir " + dir, "cgroup " + group} {
		if !strings.Contains(report, want) {
			t.Errorf("Reap's report lacks %q:\n%s", want, report)
		}
	}
	for _, pid := range []int{child, envOnly} {
		if alive(pid) {
			t.Errorf("process %d still running", pid)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still there: %v", dir, err)
	}
	for _, h := range hierarchies() {
		if _, err := os.Stat(filepath.Join(h.mount, group)); !os.IsNotExist(err) {
			t.Errorf("cgroup %s still in %s: %v", group, h.mount, err)
		}
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("Reap removed a live process's dir: %v", err)
	}
	if len(cgroupProcs(myGroup.Name())) != 0 {
		t.Fatal("precondition: this process's group should be empty")
	}
	hs := hierarchies()
	if _, err := os.Stat(filepath.Join(hs[0].mount, myGroup.Name())); err != nil {
		t.Errorf("Reap removed a live process's cgroup: %v", err)
	}
	if err := removeCgroup(myGroup.Name()); err != nil {
		t.Error(err)
	}
}

// What a dead test process left is its guard's while the guard runs: the
// reaper of another process leaves it, so that the guard removes it and
// says so; once the guard is gone, the reaper takes it.
func TestReapLeavesWhatAGuardIsRemoving(t *testing.T) {
	// A pid no process has: above the kernel's pid_max.
	owner := 1 << 23
	if pidAlive(owner) {
		t.Fatalf("precondition: pid %d runs", owner)
	}
	guard := exec.Command("sleep", "60")
	guard.Env = append(os.Environ(), envGuardFor+"="+strconv.Itoa(owner))
	if err := guard.Start(); err != nil {
		t.Fatal(err)
	}
	defer guard.Process.Kill()
	testkit.WaitFor(t, 10*time.Second, "the stand-in guard's environment to be readable", func() (string, bool) {
		return "", len(ProcessesWithEnv(envGuardFor, strconv.Itoa(owner))) == 1
	})
	if unguardedDead()(owner) {
		t.Error("a dead owner whose guard runs is taken by the reaper")
	}
	if unguardedDead()(os.Getpid()) {
		t.Error("this process counts as dead")
	}
	_ = guard.Process.Kill()
	_ = guard.Wait()
	if !unguardedDead()(owner) {
		t.Error("a dead owner with no guard is left by the reaper")
	}
}
