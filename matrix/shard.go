package matrix

import (
	"fmt"
	"hash/fnv"
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

// Keep reports whether the case named key (the full subtest name) belongs to
// this shard. The assignment depends on key alone, so adding cells never
// moves existing ones between shards.
func (s Shard) Keep(key string) bool {
	if s.Count <= 1 {
		return true
	}
	return int(Hash(key)%uint64(s.Count)) == s.Index-1
}

// Hash is the stable 64-bit hash of key that shards are assigned by: FNV-1a
// followed by the splitmix64 finalizer. FNV-1a alone leaves the low bits of
// names that differ only in their last characters (…/size=s, …/size=l)
// poorly mixed, which made small shard counts lopsided.
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
