package integration

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/report"
)

// More environment variables read by Run.
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
	quarantine []Quarantine
	pkg        string // the Go package of the test that called Run
	parent     string // the name of the test that called Run
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

// begin records who called Run; it walks the stack to the first frame
// outside this package.
func (x *extSettings) begin(t *testing.T) {
	x.parent = t.Name()
	x.pkg = callerPackage()
}

func callerPackage() string {
	pcs := make([]uintptr, 32)
	n := runtime.Callers(2, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	const self = "github.com/matrixbox/matrixbox/integration."
	for {
		f, more := frames.Next()
		if f.Function != "" && !strings.HasPrefix(f.Function, self) && !strings.HasPrefix(f.Function, "testing.") && !strings.HasPrefix(f.Function, "runtime.") {
			return strings.TrimSuffix(funcPackage(f.Function), "_test")
		}
		if !more {
			break
		}
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		return strings.TrimSuffix(bi.Path, ".test")
	}
	return ""
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
