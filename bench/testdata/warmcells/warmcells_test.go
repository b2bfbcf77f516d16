// Package warmcells is the fixture of BenchmarkWarmMemory: one case on
// each of 20 cells on buildkitd-oci with ResetBackend, so that the process
// then holds 20 warm buildkitds, and a test that reports the memory of the
// process and of its daemons while they are warm. It lives under testdata
// so that go test ./... does not run it on its own.
package warmcells

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

const cells = 20

func TestMain(m *testing.M) { os.Exit(integration.Main(m)) }

func TestWarm(t *testing.T) {
	values := map[string]any{}
	for i := range cells {
		values[fmt.Sprintf("c%02d", i)] = i
	}
	integration.Run(t, integration.With(integration.TestFuncs(testBuildctl), integration.ResetBackend()),
		integration.WithWorkers(workers.BuildkitdOCI()),
		integration.WithAxes(matrix.FromMap("cell", values)))
}

func testBuildctl(t *testing.T, sb sandbox.Sandbox) {
	if out, err := sb.Cmd("buildctl", "--addr", sb.Address(), "debug", "workers").CombinedOutput(); err != nil {
		t.Fatalf("buildctl: %v\n%s", err, out)
	}
}

// TestZMemory runs after TestWarm (tests run in source order), while the
// warm backends are kept, and prints the memory figures for the benchmark.
func TestZMemory(t *testing.T) {
	hwm, rss := status("self", "VmHWM"), status("self", "VmRSS")
	var daemons, n int
	groups, _ := filepath.Glob(fmt.Sprintf("/sys/fs/cgroup/unified/matrixbox/mbx-%d-*", os.Getpid()))
	for _, g := range groups {
		_ = filepath.Walk(g, func(p string, info os.FileInfo, err error) error {
			if err != nil || info.Name() != "cgroup.procs" {
				return nil
			}
			b, _ := os.ReadFile(p)
			for _, pid := range strings.Fields(string(b)) {
				daemons += status(pid, "VmRSS")
				n++
			}
			return nil
		})
	}
	fmt.Printf("MEMORY self-hwm-kib=%d self-rss-kib=%d daemons-rss-kib=%d daemon-processes=%d warm-groups=%d\n", hwm, rss, daemons, n, len(groups))
}

// status reads a "kB" field of /proc/<pid>/status.
func status(pid, field string) int {
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}
