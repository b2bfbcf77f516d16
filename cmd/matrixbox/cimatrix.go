package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/matrixbox/matrixbox/internal/repoconfig"
	"github.com/matrixbox/matrixbox/report"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

type matrixEntry struct {
	Shard string `json:"shard"`
	// Seconds is the expected duration of the shard from the timings.
	Seconds float64 `json:"seconds,omitempty"`
}

func ciMatrixCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ci-matrix", stderr)
	shards := fs.Int("shards", 0, "number of shards, 1 to 256 (default: the config's shards)")
	var timings listFlag
	fs.Var(&timings, "timings", "a report of an earlier run to balance the shards by (repeatable)")
	planOut := fs.String("plan-out", "shard-plan.json", "with -timings: where to write the shard plan for MATRIXBOX_SHARD_PLAN")
	format := fs.String("format", "github", "github (strategy.matrix JSON), gitlab (a hidden job with parallel: N) or gitlab-matrix (parallel:matrix of MATRIXBOX_SHARD)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if _, ok := ciFormats[*format]; !ok {
		return usageError{fmt.Errorf("-format %q: want github, gitlab or gitlab-matrix", *format)}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	n := *shards
	if n == 0 {
		fc, err := findConfig()
		if err != nil {
			return err
		}
		if fc == nil || fc.Shards == 0 {
			return usageError{fmt.Errorf("give -shards N, or shards: in %s", repoconfig.FileName)}
		}
		n = fc.Shards
	}
	if n < 1 || n > report.MaxShards {
		return usageError{fmt.Errorf("-shards %d: want 1 to %d (GitHub Actions runs at most %d jobs per matrix)", n, report.MaxShards, report.MaxShards)}
	}
	if strings.HasPrefix(*format, "gitlab") && n > maxGitLabJobs {
		return usageError{fmt.Errorf("-shards %d: GitLab runs at most %d jobs of a parallel job", n, maxGitLabJobs)}
	}
	entries := make([]matrixEntry, n)
	for i := range entries {
		entries[i].Shard = fmt.Sprintf("%d/%d", i+1, n)
	}
	if len(timings) > 0 {
		durations := map[string]float64{}
		for _, f := range timings {
			recs, err := report.Read(f)
			if err != nil {
				return fmt.Errorf("timings: %w", err)
			}
			for _, r := range recs {
				if r.Kind == report.KindCase && r.Case != "" {
					k := report.CaseKey(r.Package, r.Case)
					durations[k] = max(durations[k], r.DurationMS)
				}
			}
		}
		plan, loads := balance(n, durations)
		data, err := json.MarshalIndent(plan, "", " ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*planOut, append(data, '\n'), 0o644); err != nil {
			return fmt.Errorf("write shard plan: %w", err)
		}
		for i := range entries {
			entries[i].Seconds = math.Round(loads[i]/10) / 100
		}
	}
	return ciFormats[*format](stdout, entries)
}

// maxGitLabJobs is GitLab's limit of jobs of one parallel job.
const maxGitLabJobs = 200

// ciFormats write the shards for one CI system.
var ciFormats = map[string]func(io.Writer, []matrixEntry) error{
	"github":        writeGitHubMatrix,
	"gitlab":        writeGitLabParallel,
	"gitlab-matrix": writeGitLabMatrix,
}

// writeGitHubMatrix writes the JSON that GitHub Actions' fromJSON takes for
// strategy.matrix.
func writeGitHubMatrix(w io.Writer, entries []matrixEntry) error {
	return json.NewEncoder(w).Encode(map[string][]matrixEntry{"include": entries})
}

// gitLabJob is the hidden job that a child pipeline's test job extends.
const gitLabJob = ".matrixbox-shards"

// writeGitLabParallel writes a hidden job with parallel: N: GitLab runs a
// job that extends it N times, and matrixbox reads the shard from
// CI_NODE_INDEX and CI_NODE_TOTAL.
func writeGitLabParallel(w io.Writer, entries []matrixEntry) error {
	return writeGitLab(w, entries, map[string]any{"parallel": len(entries)})
}

// writeGitLabMatrix writes a hidden job with parallel:matrix, one job per
// value of MATRIXBOX_SHARD, which names each job in GitLab's pages.
func writeGitLabMatrix(w io.Writer, entries []matrixEntry) error {
	shards := make([]string, len(entries))
	for i, e := range entries {
		shards[i] = e.Shard
	}
	return writeGitLab(w, entries, map[string]any{"parallel": map[string]any{
		"matrix": []map[string][]string{{"MATRIXBOX_SHARD": shards}},
	}})
}

func writeGitLab(w io.Writer, entries []matrixEntry, job map[string]any) error {
	fmt.Fprintf(w, "# matrixbox ci-matrix: %d shards. A job that extends %s runs once\n# per shard; include this file in a child pipeline (trigger:include:artifact).\n", len(entries), gitLabJob)
	for _, e := range entries {
		if e.Seconds > 0 {
			fmt.Fprintf(w, "# shard %s: about %.0fs by the timings\n", e.Shard, e.Seconds)
		}
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(map[string]any{gitLabJob: job}); err != nil {
		return err
	}
	return enc.Close()
}

// balance assigns cases to n shards, longest first, each to the least
// loaded shard (ties: the lowest index, cases in name order), so the plan
// is a function of the timings alone. It returns the plan and the expected
// load of each shard in milliseconds.
func balance(n int, durations map[string]float64) (*report.ShardPlan, []float64) {
	keys := make([]string, 0, len(durations))
	for k := range durations {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if durations[keys[i]] != durations[keys[j]] {
			return durations[keys[i]] > durations[keys[j]]
		}
		return keys[i] < keys[j]
	})
	plan := &report.ShardPlan{Shards: n, Cases: make(map[string]int, len(keys))}
	loads := make([]float64, n)
	for _, k := range keys {
		best := 0
		for i := 1; i < n; i++ {
			if loads[i] < loads[best] {
				best = i
			}
		}
		plan.Cases[k] = best + 1
		loads[best] += durations[k]
	}
	return plan, loads
}
