package matrix

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
)

// Shard is one of Count disjoint parts of a run; Index is 1-based. The zero
// Shard keeps everything.
type Shard struct {
	Index, Count int
}

// ParseShard parses "i/n" with 1 ≤ i ≤ n. The empty string is the zero Shard.
func ParseShard(s string) (Shard, error) {
	if strings.TrimSpace(s) == "" {
		return Shard{}, nil
	}
	is, ns, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Shard{}, fmt.Errorf("shard %q: want i/n, e.g. 2/4", s)
	}
	i, err := strconv.Atoi(is)
	if err != nil {
		return Shard{}, fmt.Errorf("shard %q: index %q is not a number", s, is)
	}
	n, err := strconv.Atoi(ns)
	if err != nil {
		return Shard{}, fmt.Errorf("shard %q: count %q is not a number", s, ns)
	}
	if n < 1 || i < 1 || i > n {
		return Shard{}, fmt.Errorf("shard %q: want 1 ≤ i ≤ n", s)
	}
	return Shard{Index: i, Count: n}, nil
}

// String returns "i/n", or "" for the zero Shard.
func (s Shard) String() string {
	if s.Count == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Assign deals keys (the cases of one group, such as one integration.Run,
// listed the same way in every shard) round n shards and returns the shard
// of each, 1 to n. The keys are dealt in the order of their hashes,
// starting at a shard chosen by the hash of group, so that:
//
//   - the assignment depends on group and the set of keys alone, not on
//     their order, so every shard process computes the same one and each
//     key falls in exactly one shard;
//   - the shards' sizes differ by at most one, so a shard holds none of a
//     group's keys only when the group has fewer keys than there are
//     shards;
//   - small groups start at different shards, so that many of them do not
//     all load shard 1.
//
// Adding a key may move others to another shard: the balance is worth
// more than the stability, and a timing plan names its cases explicitly.
func Assign(group string, keys []string, n int) []int {
	out := make([]int, len(keys))
	if n <= 1 {
		for i := range out {
			out[i] = 1
		}
		return out
	}
	type ranked struct {
		h   uint64
		key string
		at  int
	}
	rs := make([]ranked, len(keys))
	for i, k := range keys {
		rs[i] = ranked{Hash(k), k, i}
	}
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].h != rs[j].h {
			return rs[i].h < rs[j].h
		}
		if rs[i].key != rs[j].key {
			return rs[i].key < rs[j].key
		}
		return rs[i].at < rs[j].at
	})
	start := Hash(group) % uint64(n)
	for r, k := range rs {
		out[k.at] = int((start+uint64(r))%uint64(n)) + 1
	}
	return out
}

// Hash is the stable 64-bit hash by which Assign orders keys: FNV-1a
// followed by the splitmix64 finalizer. FNV-1a alone leaves the low bits of
// names that differ only in their last characters (…/size=s, …/size=l)
// poorly mixed.
func Hash(key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
