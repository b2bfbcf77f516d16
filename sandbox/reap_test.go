package sandbox

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dieLeavingThingsBehind is the body of a test process that crashes: it
// makes a sandbox dir and a daemon whose own child is outside the reach of
// the parent-death signal, prints both, and dies by SIGKILL, so no cleanup
// of its own runs.
const testOwnerKey = "MATRIXBOX_TEST_OWNER"

func dieLeavingThingsBehind() {
	ownerKey = testOwnerKey
	dir, err := MkdirShort()
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	logs := NewLogs()
	p, err := Start("d", daemonCmd("child"), logs)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	if err := p.WaitReady(context.Background(), 10*time.Second, LogLine(logs, "d", "child ")); err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	for _, line := range strings.Split(logs.Text("d"), "\n") {
		if strings.HasPrefix(line, "child ") {
			fmt.Println(line)
		}
	}
	fmt.Println("dir", dir)
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
}

func TestReapRemovesLeftoversOfADeadRun(t *testing.T) {
	root, err := os.MkdirTemp("/tmp", "rt")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(root)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MATRIXBOX_TEST_DIE=1", "TMPDIR="+root)
	out, _ := cmd.Output()
	var dir string
	var child int
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		switch k {
		case "dir":
			dir = v
		case "child":
			child, _ = strconv.Atoi(v)
		case "error":
			t.Fatal(v)
		}
	}
	if dir == "" || child == 0 {
		t.Fatalf("dying process printed %q", out)
	}
	// The grandchild survived its owner: exactly the leftover Reap exists for.
	time.Sleep(100 * time.Millisecond)
	if !alive(child) {
		t.Fatalf("precondition: grandchild %d should have outlived its dead owner", child)
	}
	removed, err := reap(root, testOwnerKey)
	if err != nil {
		t.Fatal(err)
	}
	report := strings.Join(removed, "\n")
	if !strings.Contains(report, fmt.Sprintf("process %d", child)) || !strings.Contains(report, "dir "+dir) {
		t.Fatalf("Reap reported:\n%s", report)
	}
	deadline := time.Now().Add(5 * time.Second)
	for alive(child) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if alive(child) {
		t.Fatalf("grandchild %d still running", child)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("%s still there: %v", dir, err)
	}
	// Our own directories are never reaped.
	mine, err := os.MkdirTemp(root, fmt.Sprintf("%s%d-", DirPrefix, os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reap(root, testOwnerKey); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Fatalf("Reap removed a live process's dir: %v", err)
	}
}
