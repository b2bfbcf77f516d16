package supervise

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Proc is a running process found by a scan of /proc.
type Proc struct {
	Pid     int
	Cmdline string
}

// ProcessesWithEnv returns the running (not zombie) processes whose
// environment holds key=value. Every command made by Sandbox.Cmd carries the
// sandbox's marker, and so do its children, so this finds what a test left
// running without touching the exec.Cmd the test may still be using.
func ProcessesWithEnv(key, value string) []Proc {
	var out []Proc
	for _, p := range processesWithEnvKey(key) {
		if p.value == value {
			out = append(out, p.Proc)
		}
	}
	return out
}

type envProc struct {
	Proc
	value string
	// mine says the process runs as this process's effective user.
	mine bool
}

// processesWithEnvKey returns the running processes other than this one
// whose environment has key, with its value.
func processesWithEnvKey(key string) []envProc {
	prefix := []byte(key + "=")
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var out []envProc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil {
			continue
		}
		value, ok := envValue(env, prefix)
		if !ok {
			continue
		}
		if st, err := readStat(pid); err != nil || st.state == 'Z' || st.state == 'X' {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		out = append(out, envProc{
			Proc:  Proc{Pid: pid, Cmdline: strings.TrimSpace(string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))},
			value: value,
			mine:  processUID(pid) == os.Geteuid(),
		})
	}
	return out
}

func envValue(environ, prefix []byte) (string, bool) {
	for _, kv := range bytes.Split(environ, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, prefix); ok {
			return string(v), true
		}
	}
	return "", false
}

// KillMarked kills the processes carrying dir as their sandbox marker
// (EnvMarker) and returns them: how a sandbox without a cgroup finds what
// its commands left running.
func KillMarked(dir string) []Proc {
	ps := ProcessesWithEnv(EnvMarker, dir)
	for _, p := range ps {
		KillGroup(p.Pid)
		_ = syscall.Kill(p.Pid, syscall.SIGKILL)
	}
	return ps
}

// processUID is the real user id of pid, -1 when it cannot be read.
func processUID(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				if uid, err := strconv.Atoi(f[0]); err == nil {
					return uid
				}
			}
		}
	}
	return -1
}
