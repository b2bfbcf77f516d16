package report

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/matrixbox/matrixbox/internal/testkit"
)

// TestAppendHelper appends records to the file named by the environment
// from several goroutines; TestAppendFromProcesses runs it in several
// processes at once.
func TestAppendHelper(t *testing.T) {
	path, proc := os.Getenv("MBX_REPORT_HELPER"), os.Getenv("MBX_PROC")
	if path == "" {
		t.Skip("run by TestAppendFromProcesses")
	}
	// Lines longer than a pipe buffer, so that an unguarded writer would
	// be seen interleaving.
	pad := strings.Repeat("x", 8192)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				r := Record{Kind: KindCase, Case: fmt.Sprintf("%s/%d/%d", proc, g, i), SkipReason: pad}
				if err := Append(path, r); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestAppendFromProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.jsonl")
	const procs = 4
	var kids []*testkit.Child
	for p := 0; p < procs; p++ {
		cmd := exec.Command(testkit.Self(), "-test.run=^TestAppendHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), "MBX_REPORT_HELPER="+path, "MBX_PROC="+strconv.Itoa(p))
		kids = append(kids, testkit.Start(t, cmd))
	}
	for _, c := range kids {
		if out, err := c.Wait(); err != nil {
			t.Errorf("writer process: %v\n%s", err, out)
		}
	}
	recs, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		if seen[r.Case] {
			t.Errorf("%s written twice", r.Case)
		}
		seen[r.Case] = true
	}
	if want := procs * 4 * 50; len(seen) != want {
		t.Errorf("%d records read back, want %d", len(seen), want)
	}
}

func TestReadBadLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.jsonl")
	if err := os.WriteFile(path, []byte("{\"kind\":\"case\"}\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(path); err == nil || !strings.Contains(err.Error(), path+":2:") {
		t.Errorf("err = %v, want one naming %s:2", err, path)
	}
}

func TestShardPlanCheck(t *testing.T) {
	dir := t.TempDir()
	for body, want := range map[string]string{
		`{"shards":3,"cases":{"T/a":2}}`: "",
		`{"shards":0}`:                   "shards=0: want 1 to 256",
		`{"shards":2,"cases":{"T/a":3}}`: `case "T/a": shard 3 is not in 1..2`,
		`{"shards":`:                     "unexpected end of JSON input",
	} {
		p := filepath.Join(dir, "plan.json")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		sp, err := ReadShardPlan(p)
		if want == "" {
			if i, ok := sp.Shard("T/a"); err != nil || i != 2 || !ok {
				t.Errorf("%s: shard %d %v, %v", body, i, ok, err)
			}
			if _, ok := sp.Shard("T/b"); ok {
				t.Errorf("%s: names T/b", body)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: err = %v, want %q naming the file", body, err, want)
		}
	}
}
