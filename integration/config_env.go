package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/matrix"
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
	shardPlan  *ShardPlan
	planOut    string
	attempt    string
	quarantine []Quarantine
	pkg        string // the Go package of the test that called Run
	parent     string // the name of the test that called Run
}

func readExtSettings(shard matrix.Shard) (extSettings, error) {
	var x extSettings
	x.planOut = os.Getenv(EnvPlan)
	x.attempt = os.Getenv(envAttempt)
	if p := os.Getenv(EnvShardPlan); p != "" {
		sp, err := ReadShardPlan(p)
		if err != nil {
			return x, fmt.Errorf("%s: %w", EnvShardPlan, err)
		}
		if shard.Count != 0 && shard.Count != sp.Shards {
			return x, fmt.Errorf("%s=%s is a plan for %d shards, but %s=%s", EnvShardPlan, p, sp.Shards, EnvShard, shard)
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

// keep reports whether the case named key (its full subtest name) is in
// this process's shard.
func (s settings) keep(key string) bool {
	if s.shard.Count <= 1 {
		return true
	}
	if s.ext.shardPlan != nil {
		return s.ext.shardPlan.Shard(key) == s.shard.Index
	}
	return s.shard.Keep(key)
}

// ShardPlan assigns cases to shards. A case it does not name falls back to
// the hash assignment of MATRIXBOX_SHARD, so every case lands in exactly one
// shard even when the suite grew since the plan was made.
type ShardPlan struct {
	Shards int `json:"shards"`
	// Cases maps a case's full subtest name to its shard, 1-based.
	Cases map[string]int `json:"cases"`
}

// Shard returns the shard of the case named key.
func (p *ShardPlan) Shard(key string) int {
	if i, ok := p.Cases[key]; ok {
		return i
	}
	return int(matrix.Hash(key)%uint64(p.Shards)) + 1
}

// Check reports the first problem of the plan.
func (p *ShardPlan) Check() error {
	if p.Shards < 1 || p.Shards > maxJobs {
		return fmt.Errorf("shards=%d: want 1 to %d", p.Shards, maxJobs)
	}
	for k, i := range p.Cases {
		if i < 1 || i > p.Shards {
			return fmt.Errorf("case %q: shard %d is not in 1..%d", k, i, p.Shards)
		}
	}
	return nil
}

// ReadShardPlan reads and checks a plan written as JSON.
func ReadShardPlan(path string) (*ShardPlan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var sp ShardPlan
	if err := json.Unmarshal(data, &sp); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := sp.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &sp, nil
}
