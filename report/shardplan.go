package report

import (
	"encoding/json"
	"fmt"
	"os"
)

// MaxShards is the most shards a plan may have: GitHub Actions runs at
// most 256 jobs per matrix.
const MaxShards = 256

// ShardPlan assigns cases to shards by earlier durations. A case it does
// not name is dealt with the other unnamed cases of its Run, as without a
// plan, so every case lands in exactly one shard even when the suite grew
// since the plan was made.
type ShardPlan struct {
	Shards int `json:"shards"`
	// Cases maps a case, by its [CaseKey] (package and full subtest
	// name), to its shard, 1-based.
	Cases map[string]int `json:"cases"`
}

// Shard returns the shard of the case whose [CaseKey] is key, and false
// when the plan does not name it.
func (p *ShardPlan) Shard(key string) (int, bool) {
	i, ok := p.Cases[key]
	return i, ok
}

// Check reports the first problem of the plan.
func (p *ShardPlan) Check() error {
	if p.Shards < 1 || p.Shards > MaxShards {
		return fmt.Errorf("shards=%d: want 1 to %d", p.Shards, MaxShards)
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
