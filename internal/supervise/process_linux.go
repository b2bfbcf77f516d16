package supervise

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

func SetProcessGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	// The parent-death signal follows the thread that forked the child; Go
	// never retires threads of goroutines that did not lock one, so it
	// fires when the test process dies. A backend's daemons are forked by
	// the locked thread of its mount namespace (RunNS), which lives until
	// they are stopped.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}

func SignalGroup(pgid int, kill bool) {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-pgid, sig)
}

func KillGroup(pgid int) { SignalGroup(pgid, true) }

// ExitedUnreaped reports whether child pid has exited even if the
// goroutine waiting for it has not reaped it yet: a zombie has. A child is
// reaped only by that goroutine, so its pid is not reused before; a pid
// already gone was reaped, so it has exited too.
func ExitedUnreaped(pid int) bool {
	st, err := readStat(pid)
	return err != nil || st.state == 'Z' || st.state == 'X'
}

// GroupAlive reports whether a process of group pgid is still running; a
// zombie has finished and does not count.
func GroupAlive(pgid int) bool {
	if err := syscall.Kill(-pgid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	return len(groupMembers(pgid)) > 0
}

// groupMembers returns the pids of the running (not zombie) processes whose
// process group is pgid.
func groupMembers(pgid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readStat(pid)
		if err != nil || st.pgrp != pgid || st.state == 'Z' || st.state == 'X' {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

type procStat struct {
	state      byte
	ppid, pgrp int
	// start is when the process started, in clock ticks since boot: with
	// the pid, it names one process for as long as the machine is up.
	start uint64
}

// readStat parses /proc/<pid>/stat; the command name may hold spaces and
// parentheses, so fields are counted from the last ')'.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return procStat{}, errors.New("malformed stat")
	}
	f := strings.Fields(string(b[i+2:]))
	// Field 22 of the file, starttime, is the 20th after the command name.
	if len(f) < 20 {
		return procStat{}, errors.New("malformed stat")
	}
	ppid, _ := strconv.Atoi(f[1])
	pgrp, _ := strconv.Atoi(f[2])
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("malformed stat: starttime %q", f[19])
	}
	return procStat{state: f[0][0], ppid: ppid, pgrp: pgrp, start: start}, nil
}

// processStart is when pid started, in clock ticks since boot.
func processStart(pid int) (uint64, bool) {
	st, err := readStat(pid)
	return st.start, err == nil
}

// fileUID is the owner of the file fi describes.
func fileUID(fi os.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
