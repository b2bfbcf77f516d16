package bench

import (
	"context"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/internal/box"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

// BenchmarkFreshBackend opens and closes a sandbox on a fresh backend of
// each daemon worker and reports where the time goes, by phase, from the
// lines the harness logs: the worker's start (its config, its daemons up
// to ready), the daemons' own start-to-ready, the worker's stop, the
// sweep of the sandbox (cgroup, mounts, directory), the CPU the daemons
// used (their rusage, reaped children included) and the CPU this process
// used. What is matrixbox's own is the start minus the daemons' readiness,
// the sweep, and this process's CPU.
func BenchmarkFreshBackend(b *testing.B) {
	if testing.Short() {
		b.Skip("starts daemons")
	}
	for _, w := range []sandbox.Worker{workers.BuildkitdOCI(), workers.BuildkitdContainerd(), workers.Containerd(), workers.Dockerd()} {
		b.Run(w.Name(), func(b *testing.B) {
			if c, ok := w.(sandbox.Checker); ok {
				if err := c.Check(); err != nil {
					b.Skip(err)
				}
			}
			cells, err := matrix.Expand(matrix.Strings("worker", w.Name()))
			if err != nil {
				b.Fatal(err)
			}
			var m phaseTotals
			self0 := selfCPU()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				logs := sandbox.NewLogs()
				start := time.Now()
				bx, err := box.Open(context.Background(), box.Spec{Config: sandbox.Config{Cell: cells[0], Logs: logs}, Worker: w})
				if err != nil {
					b.Fatal(err)
				}
				m.open += time.Since(start)
				start = time.Now()
				if err := bx.Close(); err != nil {
					b.Fatal(err)
				}
				m.close += time.Since(start)
				m.add(logs.String())
			}
			b.StopTimer()
			n := float64(b.N)
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / n }
			b.ReportMetric(ms(m.open), "open-ms/op")
			b.ReportMetric(ms(m.ready), "daemons-ready-ms/op")
			b.ReportMetric(ms(m.close), "close-ms/op")
			b.ReportMetric(ms(m.stop), "stop-ms/op")
			b.ReportMetric(ms(m.sweep), "sweep-ms/op")
			b.ReportMetric(ms(m.daemonCPU), "daemon-cpu-ms/op")
			b.ReportMetric(ms(selfCPU()-self0), "self-cpu-ms/op")
		})
	}
}

type phaseTotals struct {
	open, close, ready, stop, sweep, daemonCPU time.Duration
}

var (
	readyLine = regexp.MustCompile(`matrixbox: \S+ ready after (\S+)`)
	stopLine  = regexp.MustCompile(`matrixbox: backend stopped in (\S+)`)
	sweepLine = regexp.MustCompile(`matrixbox: sandbox swept in (\S+)`)
	cpuLine   = regexp.MustCompile(`matrixbox: \S+ used (\S+) of CPU`)
)

// add sums the phases a sandbox's logs report. Daemons that start one
// after the other (containerd, then buildkitd) add up.
func (m *phaseTotals) add(log string) {
	sum := func(re *regexp.Regexp) time.Duration {
		var t time.Duration
		for _, sub := range re.FindAllStringSubmatch(log, -1) {
			d, _ := time.ParseDuration(strings.TrimSpace(sub[1]))
			t += d
		}
		return t
	}
	m.ready += sum(readyLine)
	m.stop += sum(stopLine)
	m.sweep += sum(sweepLine)
	m.daemonCPU += sum(cpuLine)
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
