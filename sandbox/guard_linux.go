package sandbox

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func setGuardAttrs(cmd *exec.Cmd) {
	// Its own process group keeps a terminal's Ctrl-C from reaching it
	// before the test process is gone; SIGUSR1 tells it the parent died.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGUSR1}
}

func runGuard(parent int) {
	died := make(chan os.Signal, 1)
	signal.Notify(died, syscall.SIGUSR1)
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	// The parent may have died before the signal could be armed; polling
	// the parent pid covers that and a missed signal.
	for os.Getppid() == parent {
		select {
		case <-died:
		case <-time.After(time.Second):
		}
	}
	removed := cleanupAfter(parent)
	if len(removed) > 0 {
		fmt.Fprintf(os.Stderr, "matrixbox: test process %d ended without cleaning up (os.Exit, panic, -timeout or signal); its guard removed:\n  %s\n",
			parent, strings.Join(removed, "\n  "))
	}
}

// cleanupAfter kills the processes owned by the dead test process pid,
// detaches mounts under its directories and removes them.
func cleanupAfter(pid int) []string {
	var removed []string
	want := strconv.Itoa(pid)
	// Killing a daemon can make its children show up as orphans a moment
	// later; a few rounds catch them.
	for round := 0; round < 5; round++ {
		var found bool
		for _, p := range processesWithEnvKey(ownerKey) {
			if p.value != want {
				continue
			}
			found = true
			_ = syscall.Kill(p.Pid, syscall.SIGKILL)
			removed = appendOnce(removed, fmt.Sprintf("process %d (%s)", p.Pid, p.Cmdline))
		}
		if !found {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	root := ShortTempRoot()
	ents, _ := os.ReadDir(root)
	for _, e := range ents {
		if owner, ok := dirOwner(e.Name()); !ok || owner != pid {
			continue
		}
		dir := filepath.Join(root, e.Name())
		for _, m := range detachMountsUnder(dir) {
			removed = append(removed, "mount "+m)
		}
		if err := os.RemoveAll(dir); err == nil {
			removed = append(removed, "dir "+dir)
		} else {
			removed = append(removed, fmt.Sprintf("dir %s (could not remove: %v)", dir, err))
		}
	}
	return removed
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
