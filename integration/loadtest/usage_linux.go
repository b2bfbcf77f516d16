package loadtest

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ReadUsage reads pid's open descriptors (/proc/<pid>/fd) and peak resident
// memory (VmHWM of /proc/<pid>/status).
func ReadUsage(pid int) (Usage, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return Usage{}, fmt.Errorf("open descriptors of %d: %w", pid, err)
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Usage{}, fmt.Errorf("status of %d: %w", pid, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		if err != nil {
			return Usage{}, fmt.Errorf("status of %d: VmHWM %q: %w", pid, v, err)
		}
		return Usage{FDs: len(fds), HWM: kb << 10}, nil
	}
	if err := sc.Err(); err != nil {
		return Usage{}, fmt.Errorf("status of %d: %w", pid, err)
	}
	// A zombie has no memory lines.
	return Usage{}, fmt.Errorf("status of %d: no VmHWM line", pid)
}
