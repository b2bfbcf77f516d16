package supervise

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/internal/testkit"
)

// TestMain lets the test binary act as a parent for the tests of the
// reaper (MATRIXBOX_TEST_PARENT: start a child, print its pid, wait), or
// as a test process that dies leaving things behind (MATRIXBOX_TEST_DIE).
func TestMain(m *testing.M) {
	if os.Getenv("MATRIXBOX_TEST_PARENT") != "" {
		c := exec.Command("sleep", "300")
		if err := c.Start(); err == nil {
			fmt.Println("child", c.Process.Pid)
		}
		select {}
	}
	if os.Getenv("MATRIXBOX_TEST_DIE") != "" {
		dieLeavingThingsBehind()
		return
	}
	os.Exit(m.Run())
}

// startParent starts this test binary as a parent, as a sandbox starts a
// daemon (its own process group, a parent-death signal, this process's
// owner in its environment), in g's daemon leaf when g is not nil; it
// returns the pid of the parent's child once the parent printed it.
func startParent(g *Group) (int, error) {
	cmd := exec.Command(testkit.Self(), "-test.run=^$")
	cmd.Env = append(os.Environ(), "MATRIXBOX_TEST_PARENT=1", OwnerEnv())
	SetProcessGroup(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	after := func() {}
	if g != nil {
		if after, err = g.Attach(cmd, "d"); err != nil {
			return 0, err
		}
	}
	err = cmd.Start()
	after()
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if pid, ok := strings.CutPrefix(sc.Text(), "child "); ok {
			return strconv.Atoi(pid)
		}
	}
	return 0, errors.New("the parent printed no child")
}
