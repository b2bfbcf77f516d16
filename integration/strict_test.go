package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/report"
)

// quiet drops -test.v, which runChild passes: the default output of go
// test prints a passing test's log only with -v.
const quiet = "-test.v=false"

// TestEmptySelectionIsSaidWithTheAxisValues: without strict mode a typo in
// MATRIXBOX_SELECT still passes, but the default output says that nothing
// ran, what each axis has and what the typo may have meant.
func TestEmptySelectionIsSaidWithTheAxisValues(t *testing.T) {
	out, ok := runChild(t, "names", []string{"MATRIXBOX_SELECT=worker=secnod,color=red"}, quiet)
	if !ok {
		t.Fatalf("child failed without strict mode:\n%s", out)
	}
	for _, want := range []string{
		`the selection "worker=secnod,color=red"`,
		"did you mean worker=second?",
		"worker: host, second",
		"color: blue, green, red",
		"size: s, m, l",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the default output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "=== RUN") {
		t.Fatalf("the child ran verbose:\n%s", out)
	}
}

// TestStrictModeFailsWhatTestsNothing: each way of testing nothing makes
// go test fail under MATRIXBOX_STRICT=1, with a message naming the cause,
// and passes without it.
func TestStrictModeFailsWhatTestsNothing(t *testing.T) {
	for _, tc := range []struct {
		name, scenario string
		env, args      []string
		want           string
	}{
		{name: "empty selection", scenario: "names", env: []string{"MATRIXBOX_SELECT=worker=secnod"},
			want: `the selection "worker=secnod" (MATRIXBOX_SELECT or select: in matrixbox.yaml) matches none of the 36 cases of this Run`},
		{name: "selection of an axis the Run lacks", scenario: "names", env: []string{"MATRIXBOX_SELECT=colour=red"},
			want: `colour=red: there is no axis "colour"; did you mean color?`},
		{name: "missing worker binary", scenario: "unavailable",
			want: "worker needs-frobd unavailable, which strict mode (MATRIXBOX_STRICT=1 or strict: true) does not allow: frobd not found in PATH: apt-get install frobd"},
		{name: "zero-case Run", scenario: "names", args: []string{"-test.run=^TestChild$/^TestNope$"},
			want: "none of the 30 cases of this Run ran: go test's -run or -skip matched none of them"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, ok := runChild(t, tc.scenario, append([]string{"MATRIXBOX_STRICT=1"}, tc.env...), append([]string{quiet}, tc.args...)...)
			if ok || !strings.Contains(out, tc.want) {
				t.Errorf("strict: passed=%v, want a failure saying %q:\n%s", ok, tc.want, out)
			}
			if out, ok := runChild(t, tc.scenario, tc.env, append([]string{quiet}, tc.args...)...); !ok {
				t.Errorf("without strict mode the child failed:\n%s", out)
			}
		})
	}
}

// TestStrictModeSkipsAnUnsupportedCell: a worker whose Check says, with
// errors.ErrUnsupported, that its cell cannot be (dockerd-containerd on a
// moby without the containerd image store) skips it in strict mode too,
// as a lacking feature does: nothing is missing from the machine.
func TestStrictModeSkipsAnUnsupportedCell(t *testing.T) {
	for _, env := range [][]string{nil, {"MATRIXBOX_STRICT=1"}} {
		out, ok := runChild(t, "unsupported", env)
		if !ok {
			t.Fatalf("%v: the child failed:\n%s", env, out)
		}
		if got := caseLines(out, "SKIP"); len(got) != 1 || got[0] != "TestNothing/worker=frobd-new-store" {
			t.Errorf("%v: skipped %v", env, got)
		}
		if want := "worker frobd-new-store: frobd 1.0 has no new store"; !strings.Contains(out, want) {
			t.Errorf("%v: the skip does not say %q:\n%s", env, want, out)
		}
		if strings.Contains(out, "New called") {
			t.Errorf("%v: the worker was started", env)
		}
	}
}

// thisPackage is what the records of this package's tests name as their
// package.
const thisPackage = "github.com/matrixbox/matrixbox/integration"

// TestStrictModeAndShards: a shard that holds none of a Run's cases fails
// in strict mode, unless the Run has fewer cases than there are shards.
func TestStrictModeAndShards(t *testing.T) {
	// The one case of scenario "one" goes to one of three shards; another
	// holds none.
	empty := matrix.Assign("TestChild", []string{report.CaseKey(thisPackage, "TestChild/TestNothing/worker=host")}, 3)[0]%3 + 1
	shard := fmt.Sprintf("%d/3", empty)
	out, ok := runChild(t, "one", []string{"MATRIXBOX_STRICT=1", "MATRIXBOX_SHARD=" + shard})
	if !ok || !strings.Contains(out, "shard "+shard+" holds none of the 1 cases of this Run: it has fewer cases than there are shards") {
		t.Errorf("a one-case Run in shard %s: passed=%v\n%s", shard, ok, out)
	}
	// A plan that puts every case in shard 1 leaves shard 2 empty.
	plan := struct {
		Shards int            `json:"shards"`
		Cases  map[string]int `json:"cases"`
	}{2, map[string]int{}}
	for _, n := range wantNames {
		plan.Cases[report.CaseKey(thisPackage, "TestChild/"+n)] = 1
	}
	data, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"MATRIXBOX_SHARD=2/2", "MATRIXBOX_SHARD_PLAN=" + p}
	out, ok = runChild(t, "names", append(env, "MATRIXBOX_STRICT=1"))
	if ok || !strings.Contains(out, "shard 2/2 (from MATRIXBOX_SHARD=2/2) holds none of the 30 cases of this Run") {
		t.Errorf("strict, empty shard of a plan: passed=%v\n%s", ok, out)
	}
	if out, ok := runChild(t, "names", env); !ok {
		t.Errorf("without strict mode the empty shard failed:\n%s", out)
	}
}
