package matrix

import (
	"fmt"
	"strconv"
	"strings"
)

// shardProtocol is how a CI engine tells a process which of its parallel
// jobs it is: two environment variables, an index and a total.
type shardProtocol struct {
	engine       string
	index, total string
	base         int // the first index
}

// shardProtocols are tried in this order. Bazel comes first: it is the
// runner that started this very process, possibly inside a parallel job of
// one of the others.
var shardProtocols = []shardProtocol{
	{engine: "Bazel", index: "TEST_SHARD_INDEX", total: "TEST_TOTAL_SHARDS", base: 0},
	{engine: "GitLab CI", index: "CI_NODE_INDEX", total: "CI_NODE_TOTAL", base: 1},
	{engine: "CircleCI", index: "CIRCLE_NODE_INDEX", total: "CIRCLE_NODE_TOTAL", base: 0},
	{engine: "Buildkite", index: "BUILDKITE_PARALLEL_JOB", total: "BUILDKITE_PARALLEL_JOB_COUNT", base: 0},
}

// DetectShard returns the shard that a CI engine's variables, read through
// getenv, give this process:
//
//	Bazel      TEST_SHARD_INDEX (from 0), TEST_TOTAL_SHARDS
//	GitLab CI  CI_NODE_INDEX (from 1), CI_NODE_TOTAL
//	CircleCI   CIRCLE_NODE_INDEX (from 0), CIRCLE_NODE_TOTAL
//	Buildkite  BUILDKITE_PARALLEL_JOB (from 0), BUILDKITE_PARALLEL_JOB_COUNT
//
// The first engine whose total is more than 1 wins (a total of 1, as GitLab
// sets outside parallel jobs, shards nothing); from names it and the
// values, e.g. "GitLab CI (CI_NODE_INDEX=2, CI_NODE_TOTAL=4)", and ignored
// names the other engines whose variables were set too. With no engine it
// returns the zero Shard and "". A value that does not parse, or an index
// outside the total, is an error naming the variable.
func DetectShard(getenv func(string) string) (s Shard, from string, ignored []string, err error) {
	for _, p := range shardProtocols {
		sh, ok, err := p.detect(getenv)
		if err != nil {
			return Shard{}, "", nil, err
		}
		if !ok {
			continue
		}
		if from == "" {
			s, from = sh, p.describe(getenv)
			continue
		}
		ignored = append(ignored, p.describe(getenv))
	}
	return s, from, ignored, nil
}

func (p shardProtocol) describe(getenv func(string) string) string {
	return fmt.Sprintf("%s (%s=%s, %s=%s)", p.engine, p.index, getenv(p.index), p.total, getenv(p.total))
}

// detect reports the shard p's variables give, and false when they give
// none.
func (p shardProtocol) detect(getenv func(string) string) (Shard, bool, error) {
	tv := strings.TrimSpace(getenv(p.total))
	if tv == "" {
		return Shard{}, false, nil
	}
	total, err := strconv.Atoi(tv)
	if err != nil || total < 1 {
		return Shard{}, false, fmt.Errorf("%s=%q (%s): want a whole number ≥ 1", p.total, tv, p.engine)
	}
	if total == 1 {
		return Shard{}, false, nil
	}
	iv := strings.TrimSpace(getenv(p.index))
	if iv == "" {
		return Shard{}, false, fmt.Errorf("%s=%d but %s is not set (%s)", p.total, total, p.index, p.engine)
	}
	i, err := strconv.Atoi(iv)
	if err != nil || i < p.base || i >= p.base+total {
		return Shard{}, false, fmt.Errorf("%s=%q: want %d to %d (%s counts its %s=%d jobs from %d)",
			p.index, iv, p.base, p.base+total-1, p.engine, p.total, total, p.base)
	}
	return Shard{Index: i - p.base + 1, Count: total}, true, nil
}
