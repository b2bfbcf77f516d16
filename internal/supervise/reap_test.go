package supervise

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
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
	return scope{tmpRoot: root, ownerKey: testOwnerKey, cgroupRoot: testCgroupRoot, runRoot: filepath.Join(root, "run")}
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
	g, err := NewGroup(dir)
	if err != nil {
		fail(err)
	}
	d, err := startParent(g)
	if err != nil {
		fail(err)
	}
	e, err := startParent(nil)
	if err != nil {
		fail(err)
	}
	fmt.Println("d", d)
	fmt.Println("e", e)
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
	if !testkit.Alive(child) || !testkit.Alive(envOnly) {
		t.Fatalf("precondition: %d and %d should have outlived their dead owner", child, envOnly)
	}
	// The grandchild in the cgroup is recorded as a daemon of the dir, as
	// a backend records its daemons: the report names it as that daemon,
	// not by a command line a dying daemon no longer has.
	o := owner{pid: child}
	o.start, _ = processStart(child)
	if err := os.WriteFile(filepath.Join(dir, DaemonsRecord), []byte(o.String()+" grandchild\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Our own leftovers are never reaped: a dir and a group of this process.
	mine, err := os.MkdirTemp(root, dirPrefix+selfOwner().String()+"-")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		cgroupRoot = "matrixbox"
	}()
	cgroupRoot = testCgroupRoot
	myGroup, err := NewGroup(mine)
	cgroupRoot = "matrixbox"
	if err != nil {
		t.Fatal(err)
	}
	dead := func(o owner) bool { return !o.is(selfOwner()) && !o.running() }
	removed, _, err := removeOwned(testScope(root), dead, false)
	if err != nil {
		t.Fatal(err)
	}
	report := strings.Join(removed, "\n")
	for _, want := range []string{fmt.Sprintf("daemon grandchild (pid %d) in cgroup %s", child, group), fmt.Sprintf("process %d ", envOnly), "dir " + dir, "cgroup " + group} {
		if !strings.Contains(report, want) {
			t.Errorf("Reap's report lacks %q:\n%s", want, report)
		}
	}
	for _, pid := range []int{child, envOnly} {
		if testkit.Alive(pid) {
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
	owner := owner{pid: 1 << 23, start: 1}
	if pidAlive(owner.pid) {
		t.Fatalf("precondition: pid %d runs", owner.pid)
	}
	guard := exec.Command("sleep", "60")
	guard.Env = append(os.Environ(), envGuardFor+"="+owner.String()+":00")
	if err := guard.Start(); err != nil {
		t.Fatal(err)
	}
	defer guard.Process.Kill()
	testkit.WaitFor(t, 10*time.Second, "the stand-in guard's environment to be readable", func() (string, bool) {
		return "", len(ProcessesWithEnv(envGuardFor, owner.String()+":00")) == 1
	})
	if unguardedDead()(owner) {
		t.Error("a dead owner whose guard runs is taken by the reaper")
	}
	if unguardedDead()(selfOwner()) {
		t.Error("this process counts as dead")
	}
	_ = guard.Process.Kill()
	_ = guard.Wait()
	if !unguardedDead()(owner) {
		t.Error("a dead owner with no guard is left by the reaper")
	}
}

// nobody runs script as the user nobody (uid 65534), as another user of a
// shared machine would.
func nobody(t *testing.T, script string) {
	t.Helper()
	out, err := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("as nobody: %s: %v\n%s", script, err, out)
	}
}

// What another user plants under the temp root, named as a dead test
// process's sandbox dir, is never read as the reaper's own, nor removed:
// neither the dir, nor what a bootstrap.json in it names (the issue's
// /run/containerd/s entry), nor what a symlink of that name points at.
// Each is reported, once, as left alone.
func TestReapLeavesWhatOthersPlanted(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("planting as another user needs root")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("needs setpriv (util-linux)")
	}
	root, err := os.MkdirTemp("/tmp", "rt")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(root)
	// Like /tmp: anyone may make entries in it.
	if err := os.Chmod(root, 0o1777); err != nil {
		t.Fatal(err)
	}
	sc := testScope(root)
	sockDir := filepath.Join(sc.runRoot, "containerd", "s")
	if err := os.MkdirAll(sockDir, 0o711); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(sockDir, "system-containerd-shim")
	if err := os.WriteFile(victim, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dead := owner{pid: 1 << 23, start: 12345}
	if pidAlive(dead.pid) {
		t.Fatalf("precondition: pid %d runs", dead.pid)
	}
	var planted []string
	for _, name := range []string{dirPrefix + dead.String() + "-evil", fmt.Sprintf("%s%d-evil", dirPrefix, dead.pid)} {
		dir := filepath.Join(root, name)
		planted = append(planted, dir)
		for _, task := range []string{"b/containerd/state/io.containerd.runtime.v2.task/ns1/id1", "b/c/io.containerd.runtime.v2.task/ns1/id1"} {
			task = filepath.Join(dir, task)
			nobody(t, fmt.Sprintf(`mkdir -p %s && echo '{"address":"unix://%s"}' > %s/bootstrap.json && echo unix://%s > %s/address`, task, victim, task, victim, task))
		}
		nobody(t, fmt.Sprintf("chmod 0700 %s && touch %s/%s", dir, dir, WarmMark))
	}
	// A symlink named as a sandbox dir, pointing at a directory of root's.
	target := filepath.Join(t.TempDir(), "precious")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "data"), []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, dirPrefix+dead.String()+"-link")
	nobody(t, fmt.Sprintf("ln -s %s %s", target, link))
	planted = append(planted, link)

	isDead := func(o owner) bool { return o.is(dead) }
	for _, quietWarm := range []bool{false, true} {
		removed, leftAlone, err := removeOwned(sc, isDead, quietWarm)
		if err != nil {
			t.Error(err)
		}
		if len(removed) > 0 {
			t.Errorf("the reaper removed things it cannot prove its own:\n%s", strings.Join(removed, "\n"))
		}
		report := strings.Join(leftAlone, "\n")
		for _, p := range planted {
			if n := strings.Count(report, p+":"); n != 1 {
				t.Errorf("%s reported %d times as left alone:\n%s", p, n, report)
			}
		}
		for _, want := range []string{"owned by uid 65534", "a symlink"} {
			if !strings.Contains(report, want) {
				t.Errorf("the report lacks %q:\n%s", want, report)
			}
		}
	}
	if _, err := os.Stat(victim); err != nil {
		t.Errorf("%s, named by a planted bootstrap.json, is gone: %v", victim, err)
	}
	for _, p := range planted[:2] {
		if _, err := os.Stat(filepath.Join(p, "b/c/io.containerd.runtime.v2.task/ns1/id1/bootstrap.json")); err != nil {
			t.Errorf("the planted %s was removed: %v", p, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(target, "data")); err != nil || string(b) != "keep" {
		t.Errorf("what the planted symlink points at was touched: %q %v", b, err)
	}
	if _, err := os.Lstat(link); err != nil {
		t.Errorf("the planted symlink was removed: %v", err)
	}
}

// A test process is its pid and its start time: a sandbox dir named after
// this process's pid but another start time is a dead process's whose pid
// the kernel gave to this one, and is reaped; one named after this process
// is not.
func TestReapTellsARecycledPid(t *testing.T) {
	self := selfOwner()
	if self.start == 0 {
		t.Fatal("this process's start time is unknown")
	}
	recycled := owner{pid: self.pid, start: self.start - 1}
	dead := unguardedDead()
	if !dead(recycled) {
		t.Errorf("%s, whose pid this process (%s) has now, is taken for running", recycled, self)
	}
	if dead(self) {
		t.Errorf("this process (%s) is taken for dead", self)
	}
	root := t.TempDir()
	old := filepath.Join(root, dirPrefix+recycled.String()+"-1")
	mine := filepath.Join(root, dirPrefix+self.String()+"-2")
	for _, d := range []string{old, mine} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	removed, _, err := removeOwned(testScope(root), dead, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(removed, "\n"); !strings.Contains(got, "dir "+old+" ") || strings.Contains(got, mine) {
		t.Errorf("removed:\n%s\nwant %s alone", got, old)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("this process's dir was removed: %v", err)
	}
}

// Of what a dead sandbox's daemons left under /run, the reaper removes
// what it proves is the sandbox's: the shim socket named after a task of
// its containerd, runc state whose bundle is in the sandbox, a fifo
// directory of its tasks alone; nothing that a file in the sandbox names.
func TestReapRemovesOnlyProvablyOwnRuntimeState(t *testing.T) {
	// Short, for the socket's path.
	root, err := os.MkdirTemp("/tmp", "rs")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(root)
	sc := testScope(root)
	dead := owner{pid: 1 << 23, start: 7}
	dir := filepath.Join(root, dirPrefix+dead.String()+"-1")
	task := filepath.Join(dir, "b/containerd/state/io.containerd.runtime.v2.task/ns1/id1")
	mkdir := func(p string) {
		t.Helper()
		if err := os.MkdirAll(p, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		t.Helper()
		mkdir(filepath.Dir(p))
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mkdir(task)
	sockDir := filepath.Join(sc.runRoot, "containerd", "s")
	victim := filepath.Join(sockDir, "victim")
	write(victim, "")
	write(filepath.Join(task, "bootstrap.json"), `{"address":"unix://`+victim+`"}`)
	sum := sha256.Sum256([]byte(filepath.Join(dir, "b/containerd/containerd.sock", "ns1", "id1")))
	shimSock := filepath.Join(sockDir, hex.EncodeToString(sum[:]))
	mkdir(sockDir)
	l, err := net.Listen("unix", shimSock)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	ours := filepath.Join(sc.runRoot, "runc", "c1")
	write(filepath.Join(ours, "state.json"), `{"config":{"labels":["bundle=`+dir+`/b/buildkitd/executor/c1"]}}`)
	theirs := filepath.Join(sc.runRoot, "containerd", "runc", "ns1", "c2")
	write(filepath.Join(theirs, "state.json"), `{"config":{"labels":["bundle=/var/lib/other/c2"]}}`)
	fifos := filepath.Join(sc.runRoot, "containerd", "fifo")
	mkdir(filepath.Join(fifos, "1"))
	mkdir(filepath.Join(fifos, "2"))
	for _, f := range []string{"1/id1-stdout", "1/id1-stderr", "2/other-stdout"} {
		if err := syscall.Mkfifo(filepath.Join(fifos, f), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	removed, _, err := removeOwned(sc, func(o owner) bool { return o.is(dead) }, false)
	if err != nil {
		t.Fatal(err)
	}
	report := strings.Join(removed, "\n")
	for _, gone := range []string{shimSock, ours, filepath.Join(fifos, "1")} {
		if _, err := os.Lstat(gone); err == nil {
			t.Errorf("%s is left", gone)
		}
		if !strings.Contains(report, gone) {
			t.Errorf("the report does not name %s:\n%s", gone, report)
		}
	}
	for _, kept := range []string{victim, theirs, filepath.Join(fifos, "2")} {
		if _, err := os.Lstat(kept); err != nil {
			t.Errorf("%s, not the sandbox's, was removed: %v", kept, err)
		}
	}
}
