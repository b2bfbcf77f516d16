package workers

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// A buildkitd that is not told its workers' platforms finds them as it
// starts: it runs a small program under every emulator binfmt_misc names
// (about sixteen execs, 200–250 ms of a 300 ms start here). The first
// buildkitd of a test process finds them as usual, and says so in its log;
// buildkitdPlatforms reads that line when the next buildkitd of the same
// binary starts, and tells it that list while binfmt_misc is as it was, so
// it skips the probe and lists the same platforms. A change to binfmt_misc
// (an emulator registered or disabled, as platform.WithoutEmulation does)
// is another key: the next buildkitd finds the platforms again.
var buildkitdPlatforms = platformMemo{m: map[string][]string{}, logs: map[string][]func() string{}}

type platformMemo struct {
	mu sync.Mutex
	m  map[string][]string
	// logs are the logs of the buildkitds that found the platforms of a
	// key themselves, read until one has the line.
	logs map[string][]func() string
}

// maxWatched is how many logs are kept per key: a buildkitd that died
// before saying what it found never will.
const maxWatched = 4

// binfmtDir is where the kernel lists the registered emulators.
var binfmtDir = "/proc/sys/fs/binfmt_misc"

// platformKey is the memo's key for a buildkitd binary: the binary and
// the content of every binfmt_misc entry. ok is false when the platforms
// must not be remembered: args name platforms of their own.
func platformKey(bin string, args []string) (key string, ok bool) {
	for _, a := range args {
		if strings.Contains(a, "platform") {
			return "", false
		}
	}
	var b strings.Builder
	b.WriteString(bin)
	ents, _ := os.ReadDir(binfmtDir)
	for _, e := range ents {
		if e.Name() == "register" {
			continue
		}
		data, _ := os.ReadFile(filepath.Join(binfmtDir, e.Name()))
		b.WriteString("\x00" + e.Name() + "\x00")
		b.Write(data)
	}
	return b.String(), true
}

// foundPlatforms matches the list in buildkitd's line for a worker it
// found: `found worker "…", labels=map[…], platforms=[linux/amd64 …]`.
var foundPlatforms = regexp.MustCompile(`found worker .*platforms=\[([^\]]+)\]`)

// get returns the platforms known for key, nil when none is yet.
func (m *platformMemo) get(key string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ps := m.m[key]; ps != nil {
		return ps
	}
	for _, log := range m.logs[key] {
		if match := foundPlatforms.FindStringSubmatch(log()); match != nil {
			m.m[key] = slices.Clip(strings.Fields(match[1]))
			delete(m.logs, key)
			return m.m[key]
		}
	}
	return nil
}

// watch notes the log of a buildkitd that finds the platforms of key
// itself.
func (m *platformMemo) watch(key string, log func() string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m[key] != nil {
		return
	}
	w := append(m.logs[key], log)
	if len(w) > maxWatched {
		w = w[len(w)-maxWatched:]
	}
	m.logs[key] = w
}
