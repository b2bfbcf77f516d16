package workers

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/matrixbox/matrixbox/sandbox"
)

type procInfo struct {
	pid, ppid int
	cmdline   string
}

func listProcs() []procInfo {
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
		// The command name may hold spaces and ')': count from the last ')'.
		i := bytes.LastIndexByte(st, ')')
		if i < 0 || i+2 >= len(st) {
			continue
		}
		f := strings.Fields(string(st[i+2:]))
		if len(f) < 2 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		cl, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		out = append(out, procInfo{pid: pid, ppid: ppid, cmdline: strings.TrimSpace(string(bytes.ReplaceAll(cl, []byte{0}, []byte{' '})))})
	}
	return out
}

// processesUsing returns the processes whose command line names dir, and
// all their descendants (a shim's container, runc's children).
func processesUsing(dir string) []procInfo {
	procs := listProcs()
	children := map[int][]procInfo{}
	for _, p := range procs {
		children[p.ppid] = append(children[p.ppid], p)
	}
	self := os.Getpid()
	seen := map[int]bool{}
	var out []procInfo
	var walk func(p procInfo)
	walk = func(p procInfo) {
		if seen[p.pid] || p.pid == self {
			return
		}
		seen[p.pid] = true
		out = append(out, p)
		for _, c := range children[p.pid] {
			walk(c)
		}
	}
	for _, p := range procs {
		if strings.Contains(p.cmdline, dir) {
			walk(p)
		}
	}
	return out
}

func killProcessesUsing(dir string) []string {
	procs := processesUsing(dir)
	var names []string
	for _, p := range procs {
		_ = syscall.Kill(p.pid, syscall.SIGKILL)
		names = append(names, fmt.Sprintf("%q (pid %d)", p.cmdline, p.pid))
	}
	// Mounts held by the killed processes go only once they are gone.
	deadline := time.Now().Add(5 * time.Second)
	for len(procs) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		procs = processesUsing(dir)
	}
	return names
}

func unmountUnder(dir string) []string {
	mounts := sandbox.MountsUnder(dir)
	for _, m := range mounts {
		if err := syscall.Unmount(m, 0); err != nil {
			_ = syscall.Unmount(m, syscall.MNT_DETACH)
		}
	}
	return mounts
}
