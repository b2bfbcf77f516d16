package bench

import (
	"bytes"
	"os/exec"
	"regexp"
	"strconv"
	"testing"

	"github.com/matrixbox/matrixbox/internal/testkit"
)

var memoryLine = regexp.MustCompile(`MEMORY self-hwm-kib=(\d+) self-rss-kib=(\d+) daemons-rss-kib=(\d+) daemon-processes=(\d+) warm-groups=(\d+)`)

// BenchmarkWarmMemory runs a process that holds warm buildkitds for 20
// cells (bench/testdata/warmcells) and reports the peak memory of the test
// process itself and, separately, what its daemons hold. Target: the test
// process stays under 1 GiB.
func BenchmarkWarmMemory(b *testing.B) {
	env := solveEnv(b, solveRows[0])
	bin := buildFixture(b, b.TempDir(), "warmcells")
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(bin, "-test.count=1", "-test.v", "-test.timeout=20m")
		cmd.Env = append(env.matrixbox(b, "reset"), "MATRIXBOX_PARALLEL=4")
		cmd.Dir = b.TempDir()
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			b.Fatalf("warmcells: %v\n%s", err, testkit.Tail(out.String(), 8000))
		}
		m := memoryLine.FindStringSubmatch(out.String())
		if m == nil {
			b.Fatalf("no MEMORY line:\n%s", testkit.Tail(out.String(), 8000))
		}
		if m[5] != "20" {
			b.Fatalf("%s warm backends, want 20:\n%s", m[5], testkit.Tail(out.String(), 8000))
		}
		kib := func(s string) float64 { n, _ := strconv.Atoi(s); return float64(n) / 1024 }
		b.ReportMetric(kib(m[1]), "self-peak-MiB")
		b.ReportMetric(kib(m[3]), "daemons-MiB")
		n, _ := strconv.Atoi(m[4])
		b.ReportMetric(float64(n), "daemon-processes")
	}
}
