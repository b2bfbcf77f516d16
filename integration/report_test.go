package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestReportHelper appends records to the report named by the environment
// from several goroutines; TestAppendRecordsProcesses runs it in several
// processes at once.
func TestReportHelper(t *testing.T) {
	if os.Getenv(envHelper) != "report" {
		t.Skip("run by TestAppendRecordsProcesses")
	}
	path, proc := os.Getenv(EnvReport), os.Getenv("MBX_PROC")
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
				if err := AppendRecords(path, r); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestAppendRecordsProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.jsonl")
	const procs = 4
	var cmds []*exec.Cmd
	for p := 0; p < procs; p++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestReportHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), envHelper+"=report", EnvReport+"="+path, "MBX_PROC="+strconv.Itoa(p))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("writer process: %v", err)
		}
	}
	recs, err := ReadRecords(path)
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

func TestReadRecordsBadLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.jsonl")
	if err := os.WriteFile(path, []byte("{\"kind\":\"case\"}\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRecords(path); err == nil || !strings.Contains(err.Error(), path+":2:") {
		t.Errorf("err = %v, want one naming %s:2", err, path)
	}
}
