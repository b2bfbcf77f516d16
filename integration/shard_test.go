package integration

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestBazelShardingIsTakenOver: under Bazel, the package touches the shard
// status file and hides TEST_TOTAL_SHARDS from rules_go's main (which
// would shard by top-level test), in this process and in the processes it
// starts; every Run keeps the cases of its shard, and the choice is logged
// once.
func TestBazelShardingIsTakenOver(t *testing.T) {
	status := filepath.Join(t.TempDir(), "shard-status")
	out, ok := runChild(t, "bazel", []string{"TEST_TOTAL_SHARDS=3", "TEST_SHARD_INDEX=1", "TEST_SHARD_STATUS_FILE=" + status})
	if !ok {
		t.Fatalf("child failed:\n%s", out)
	}
	if _, err := os.Stat(status); err != nil {
		t.Errorf("TEST_SHARD_STATUS_FILE not touched: %v", err)
	}
	if !strings.Contains(out, `TEST_TOTAL_SHARDS=""`) {
		t.Errorf("rules_go's main would still see TEST_TOTAL_SHARDS:\n%s", out)
	}
	const from = "shard 2/3 from Bazel (TEST_SHARD_INDEX=1, TEST_TOTAL_SHARDS=3)"
	if n := strings.Count(out, from); n != 1 {
		t.Errorf("%q logged %d times, want once:\n%s", from, n, out)
	}
	ran := caseLines(out, "PASS")
	sort.Strings(ran)
	// A child of that process (rules_go's wrapper starts one) sees the
	// variable under matrixbox's name and keeps the same cases.
	out, ok = runChild(t, "bazel", []string{"MATRIXBOX_BAZEL_TOTAL_SHARDS=3", "TEST_SHARD_INDEX=1"})
	again := caseLines(out, "PASS")
	sort.Strings(again)
	if !ok || strings.Join(again, " ") != strings.Join(ran, " ") || !strings.Contains(out, from) {
		t.Errorf("the wrapped child kept other cases (passed=%v):\n%s\nwant %q", ok, out, ran)
	}
	// Two Runs of 6 cases each in 3 shards: 2 cases each, the shard's
	// lines included.
	if len(ran) != 4+2 {
		t.Errorf("shard 2/3 ran %d cases and subtests, want 4 cases and 2 Runs: %q", len(ran), ran)
	}
}

// TestMatrixboxShardWins: MATRIXBOX_SHARD overrides a CI engine's
// variables, says so, and leaves Bazel's sharding to rules_go.
func TestMatrixboxShardWins(t *testing.T) {
	out, ok := runChild(t, "bazel", []string{"MATRIXBOX_SHARD=1/2", "TEST_TOTAL_SHARDS=3", "TEST_SHARD_INDEX=1", "CI_NODE_INDEX=4", "CI_NODE_TOTAL=5"})
	if !ok {
		t.Fatalf("child failed:\n%s", out)
	}
	for _, want := range []string{
		`TEST_TOTAL_SHARDS="3"`,
		"shard 1/2 from MATRIXBOX_SHARD=1/2; ignoring Bazel (TEST_SHARD_INDEX=1, TEST_TOTAL_SHARDS=3), GitLab CI (CI_NODE_INDEX=4, CI_NODE_TOTAL=5)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestBadShardVariableIsAnErrorNamingIt(t *testing.T) {
	out, ok := runChild(t, "one", []string{"CI_NODE_TOTAL=3", "CI_NODE_INDEX=0"})
	if ok || !strings.Contains(out, `CI_NODE_INDEX="0": want 1 to 3 (GitLab CI counts its CI_NODE_TOTAL=3 jobs from 1)`) {
		t.Errorf("passed=%v\n%s", ok, out)
	}
}
