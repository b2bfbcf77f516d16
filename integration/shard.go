package integration

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/report"
)

// Bazel's test sharding protocol, which Run speaks at the level of cases.
const (
	envBazelTotal  = "TEST_TOTAL_SHARDS"
	envBazelStatus = "TEST_SHARD_STATUS_FILE"
	// envBazelTaken carries TEST_TOTAL_SHARDS once this package has taken
	// Bazel's sharding over (see takeOverBazelSharding), to this process
	// and to the test processes it starts: rules_go's wrapper re-runs the
	// test binary as its child.
	envBazelTaken = "MATRIXBOX_BAZEL_TOTAL_SHARDS"
)

// bazelErr is what went wrong taking Bazel's sharding over; the first
// Run reports it.
var bazelErr = takeOverBazelSharding()

// takeOverBazelSharding runs before rules_go's generated main reads
// TEST_TOTAL_SHARDS. That main shards by top-level test function, so a
// TestIntegration holding every cell would run in one shard and, with Run
// sharding its cases too, most cases in none. So this package touches
// TEST_SHARD_STATUS_FILE (telling Bazel the test shards itself), moves
// TEST_TOTAL_SHARDS to MATRIXBOX_BAZEL_TOTAL_SHARDS so that rules_go runs
// every top-level test in every shard, and each Run keeps the cases of its
// shard. Tests that do not call Run then run in every shard: keep them in
// a go_test target of their own. With MATRIXBOX_SHARD set, nothing is
// taken over: rules_go shards top-level tests as usual.
func takeOverBazelSharding() error {
	if p := os.Getenv(envBazelStatus); p != "" {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			return fmt.Errorf("%s: %w", envBazelStatus, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("%s: %w", envBazelStatus, err)
		}
	}
	total := os.Getenv(envBazelTotal)
	if total == "" || os.Getenv(EnvShard) != "" {
		return nil
	}
	return errors.Join(os.Setenv(envBazelTaken, total), os.Unsetenv(envBazelTotal))
}

// shardEnv is os.Getenv, with TEST_TOTAL_SHARDS as it was before this
// package (or the process that started this one) took it over.
func shardEnv(name string) string {
	v := os.Getenv(name)
	if v == "" && name == envBazelTotal {
		v = os.Getenv(envBazelTaken)
	}
	return v
}

// readShard reads the shard of this process: MATRIXBOX_SHARD, else the
// variables of a CI engine. from says which, for the log and the report.
func readShard() (s matrix.Shard, from string, err error) {
	if bazelErr != nil {
		return s, "", bazelErr
	}
	detected, engine, ignored, err := matrix.DetectShard(shardEnv)
	if v := os.Getenv(EnvShard); v != "" {
		if s, err = matrix.ParseShard(v); err != nil {
			return s, "", fmt.Errorf("%s: %w", EnvShard, err)
		}
		if engine != "" {
			ignored = append([]string{engine}, ignored...)
		}
		from = EnvShard + "=" + s.String()
	} else {
		if err != nil {
			return s, "", err
		}
		s, from = detected, engine
	}
	if len(ignored) > 0 {
		from += "; ignoring " + strings.Join(ignored, ", ")
	}
	return s, from, nil
}

// announceShardOnce logs, in the first Run of the process, where its shard
// comes from.
var announceShardOnce sync.Once

func (s settings) announceShard(t *testing.T) {
	t.Helper()
	if s.shard.Count == 0 {
		return
	}
	announceShardOnce.Do(func() {
		t.Logf("matrixbox: shard %s from %s", s.shard, s.shardFrom)
	})
}

// assignShards marks which of the selected cases are this shard's: those a
// shard plan names (by report.CaseKey) go where it says, the others are
// dealt round the shards with matrix.Assign, per Run (report.RunID).
func (s settings) assignShards(parent string, cases []caseSpec) []bool {
	mine := make([]bool, len(cases))
	if s.shard.Count <= 1 {
		for i := range mine {
			mine[i] = true
		}
		return mine
	}
	var keys []string
	var at []int
	for i, c := range cases {
		key := report.CaseKey(s.ext.pkg, parent+"/"+c.name)
		if s.ext.shardPlan != nil {
			if sh, ok := s.ext.shardPlan.Shard(key); ok {
				mine[i] = sh == s.shard.Index
				continue
			}
		}
		keys = append(keys, key)
		at = append(at, i)
	}
	for j, sh := range matrix.Assign(report.RunID(parent, s.ext.runIndex), keys, s.shard.Count) {
		mine[at[j]] = sh == s.shard.Index
	}
	return mine
}
