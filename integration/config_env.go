package integration

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"github.com/matrixbox/matrixbox/internal/repoconfig"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/report"
)

// More environment variables read by Run.
// EnvConfig names the config file explicitly; "none" disables the search
// for matrixbox.yaml.
const EnvConfig = repoconfig.Env

const (
	// EnvShardPlan names a shard plan (written by matrixbox ci-matrix
	// --timings) that assigns cases to the shards of MATRIXBOX_SHARD by
	// earlier timings instead of by hash.
	EnvShardPlan = "MATRIXBOX_SHARD_PLAN"
	// EnvPlan names a file to which every Run appends its plan, one JSON
	// line per case, instead of running anything: no worker is checked or
	// started. matrixbox plan sets it.
	EnvPlan = "MATRIXBOX_PLAN"
	// envAttempt, set by Run in the processes it starts for one attempt of
	// a quarantined case, names that case: it runs as an ordinary case.
	envAttempt = "MATRIXBOX_ATTEMPT"
)

// extSettings are the settings of the config file, the report, plan mode
// and quarantine.
type extSettings struct {
	shardPlan  *report.ShardPlan
	planOut    string
	attempt    string
	quarantine []repoconfig.Quarantine
	pkg        string // the Go package of the test that called Run
	parent     string // the name of the test that called Run
	runIndex   int    // which of parent's calls of Run this is, from 1
}

func readExtSettings(shard matrix.Shard, shardFrom string) (extSettings, error) {
	var x extSettings
	x.planOut = os.Getenv(EnvPlan)
	x.attempt = os.Getenv(envAttempt)
	if p := os.Getenv(EnvShardPlan); p != "" {
		sp, err := report.ReadShardPlan(p)
		if err != nil {
			return x, fmt.Errorf("%s: %w", EnvShardPlan, err)
		}
		if shard.Count != 0 && shard.Count != sp.Shards {
			return x, fmt.Errorf("%s=%s is a plan for %d shards, but this is shard %s from %s", EnvShardPlan, p, sp.Shards, shard, shardFrom)
		}
		x.shardPlan = sp
	}
	return x, nil
}

// begin records who called Run, and which of its calls of Run this is.
func (x *extSettings) begin(t *testing.T) {
	x.parent = t.Name()
	x.runIndex = nextRunIndex(t)
	x.pkg = callerPackage()
}

// runCalls counts the calls of Run each running test has made, so that the
// records of a test that calls Run several times (BuildKit's
// TestIntegration calls it five times) name each Run apart. It is keyed by
// the *testing.T, not the name, so that -count=2 numbers each execution
// from 1 again.
var runCalls = struct {
	sync.Mutex
	n map[*testing.T]int
}{n: map[*testing.T]int{}}

func nextRunIndex(t *testing.T) int {
	runCalls.Lock()
	defer runCalls.Unlock()
	n := runCalls.n[t] + 1
	runCalls.n[t] = n
	if n == 1 {
		t.Cleanup(func() {
			runCalls.Lock()
			defer runCalls.Unlock()
			delete(runCalls.n, t)
		})
	}
	return n
}

// callerPackage is the import path of the package under test: the one the
// test binary was built for (its build path is "<package>.test"), which
// is the package of the test function even when Run is called through
// another package (the compat layer, a helper shared by suites). Where
// the build path says nothing (a binary not built by go test), it is the
// package of the test function, the frame the testing package called.
func callerPackage() string {
	if bi, ok := debug.ReadBuildInfo(); ok && strings.HasSuffix(bi.Path, ".test") {
		return strings.TrimSuffix(bi.Path, ".test")
	}
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	last := ""
	for {
		f, more := frames.Next()
		if f.Function == "testing.tRunner" {
			break
		}
		if f.Function != "" && !strings.HasPrefix(f.Function, "runtime.") {
			last = f.Function
		}
		if !more {
			break
		}
	}
	return strings.TrimSuffix(funcPackage(last), "_test")
}

// funcPackage returns the import path of a function named like
// "example.com/a/b.TestX.func1".
func funcPackage(fn string) string {
	slash := strings.LastIndex(fn, "/")
	dot := strings.Index(fn[slash+1:], ".")
	if dot < 0 {
		return fn
	}
	return fn[:slash+1+dot]
}
