package integration

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/internal/testkit"
	"github.com/matrixbox/matrixbox/sandbox"
)

func TestLogsPrintedOnlyForFailingCases(t *testing.T) {
	out, ok := runChild(t, "logs", nil)
	if ok {
		t.Fatalf("child passed though a case fails on purpose:\n%s", out)
	}
	for _, want := range []string{"FAILING-CASE-LOG-LINE worker=host/n=a", "FAILING-CASE-LOG-LINE worker=host/n=b", "===== test-notes ====="} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out, "PASSING-CASE-LOG-LINE") {
		t.Errorf("logs of a passing case were printed:\n%s", out)
	}
	// One failing case does not stop the others.
	if got := caseLines(out, "PASS"); len(got) != 2 {
		t.Errorf("passing cases = %v, want both TestPassesWithLog cells", got)
	}
	if got := caseLines(out, "FAIL"); len(got) != 2 {
		t.Errorf("failing cases = %v", got)
	}

	out, _ = runChild(t, "logs", []string{"MATRIXBOX_LOGS=always"})
	if !strings.Contains(out, "PASSING-CASE-LOG-LINE worker=host/n=b") {
		t.Errorf("MATRIXBOX_LOGS=always did not print a passing case's logs:\n%s", out)
	}
}

var wantNames = func() []string {
	var names []string
	for _, test := range []string{"TestNothing", "TestAlsoNothing"} {
		for _, w := range []string{"host", "second"} {
			for _, c := range []string{"blue", "green", "red"} {
				if w == "second" && c == "green" {
					continue // excluded
				}
				for _, s := range []string{"s", "m", "l"} {
					names = append(names, test+"/worker="+w+"/color="+c+"/size="+s)
				}
			}
		}
	}
	return names
}()

func runLines(out string) []string {
	var names []string
	for _, line := range strings.Split(out, "\n") {
		if name, ok := strings.CutPrefix(line, "=== RUN   TestChild/"); ok {
			names = append(names, name)
		}
	}
	return names
}

func TestNamesExactAndDeterministic(t *testing.T) {
	for i := 0; i < 3; i++ {
		out, ok := runChild(t, "names", nil)
		if !ok {
			t.Fatalf("child failed:\n%s", out)
		}
		if got := runLines(out); !reflect.DeepEqual(got, wantNames) {
			t.Fatalf("run %d: subtests\n%s\nwant\n%s", i, strings.Join(got, "\n"), strings.Join(wantNames, "\n"))
		}
	}
}

func TestSelectKeepsExactlyMatchingCells(t *testing.T) {
	out, ok := runChild(t, "names", []string{"MATRIXBOX_SELECT=worker=second,color=b*|red,size=l"})
	if !ok {
		t.Fatalf("child failed:\n%s", out)
	}
	got := caseLines(out, "PASS")
	sort.Strings(got)
	want := []string{
		"TestAlsoNothing/worker=second/color=blue/size=l", "TestAlsoNothing/worker=second/color=red/size=l",
		"TestNothing/worker=second/color=blue/size=l", "TestNothing/worker=second/color=red/size=l",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("selected %v, want %v", got, want)
	}
}

func TestBadEnvironmentIsAnErrorNamingIt(t *testing.T) {
	for _, env := range []string{"MATRIXBOX_SELECT=worker", "MATRIXBOX_SELECT=worker=[", "MATRIXBOX_SHARD=4/3", "MATRIXBOX_PARALLEL=lots", "MATRIXBOX_LOGS=sometimes", "MATRIXBOX_SKIP_INTEGRATION=maybe"} {
		out, ok := runChild(t, "names", []string{env})
		name, _, _ := strings.Cut(env, "=")
		if ok || !strings.Contains(out, name) || len(caseLines(out, "PASS")) > 0 {
			t.Errorf("%s: child passed=%v, output:\n%s", env, ok, out)
		}
	}
}

func TestShardsDisjointAndComplete(t *testing.T) {
	for _, n := range []int{2, 3} {
		seen := map[string]int{}
		for i := 1; i <= n; i++ {
			out, ok := runChild(t, "names", []string{"MATRIXBOX_SHARD=" + strconv.Itoa(i) + "/" + strconv.Itoa(n)})
			if !ok {
				t.Fatalf("shard %d/%d failed:\n%s", i, n, out)
			}
			for _, c := range caseLines(out, "PASS") {
				seen[c]++
			}
		}
		for _, w := range wantNames {
			if seen[w] != 1 {
				t.Errorf("n=%d: %s ran %d times", n, w, seen[w])
			}
		}
		if len(seen) != len(wantNames) {
			t.Errorf("n=%d: %d distinct cases, want %d", n, len(seen), len(wantNames))
		}
	}
}

func TestParallelismBound(t *testing.T) {
	for _, limit := range []int{1, 2, 3} {
		dir := t.TempDir()
		out, ok := runChild(t, "parallel", []string{"MATRIXBOX_PARALLEL=" + strconv.Itoa(limit), "MATRIXBOX_CHILD_DIR=" + dir}, "-test.parallel=8")
		if !ok {
			t.Fatalf("child failed:\n%s", out)
		}
		b, err := os.ReadFile(filepath.Join(dir, "peak"))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(string(b)); got != strconv.Itoa(limit) {
			t.Errorf("MATRIXBOX_PARALLEL=%d: peak live sandboxes %s", limit, got)
		}
	}
}

func TestSerialCasesNeverOverlap(t *testing.T) {
	out, ok := runChild(t, "serial", nil, "-test.parallel=8")
	if !ok || !strings.Contains(out, "serial peak 1") {
		t.Fatalf("passed=%v\n%s", ok, out)
	}
}

func pidsIn(t *testing.T, dir string) []int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "pids"))
	if err != nil {
		t.Fatalf("no pids recorded: %v", err)
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		p, _ := strconv.Atoi(f)
		pids = append(pids, p)
	}
	return pids
}

// waitGone waits until pid has exited (a zombie counts: only its parent's
// wait is missing).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	state, gone := testkit.Poll(10*time.Second, func() (string, bool) {
		if err := syscall.Kill(pid, 0); err != nil {
			return err.Error(), true
		}
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		return string(b), err == nil && strings.Contains(string(b), ") Z ")
	})
	if !gone {
		t.Errorf("supervised process %d still running after the test process ended: %s", pid, state)
	}
}

func TestPanicFailsOnlyItsCaseAndLeavesNoProcess(t *testing.T) {
	dir := t.TempDir()
	out, ok := runChild(t, "panic", []string{"MATRIXBOX_CHILD_DIR=" + dir})
	if ok {
		t.Fatalf("child passed:\n%s", out)
	}
	if !strings.Contains(out, "test panicked: deliberate panic in a test") {
		t.Errorf("panic not reported:\n%s", out)
	}
	if got := caseLines(out, "PASS"); len(got) != 1 || got[0] != "TestNothing/worker=sleeper" {
		t.Errorf("the other case did not pass: %v\n%s", got, out)
	}
	for _, pid := range pidsIn(t, dir) {
		waitGone(t, pid)
	}
}

func TestCrashedTestProcessTakesItsDaemonsDown(t *testing.T) {
	dir := t.TempDir()
	out, ok := runChild(t, "crash", []string{"MATRIXBOX_CHILD_DIR=" + dir})
	if ok || !strings.Contains(out, "deliberate panic off the test goroutine") {
		t.Fatalf("passed=%v\n%s", ok, out)
	}
	for _, pid := range pidsIn(t, dir) {
		waitGone(t, pid)
	}
}

func TestCleanupErrorFailsTheCase(t *testing.T) {
	out, ok := runChild(t, "cleanup-error", nil)
	if ok || !strings.Contains(out, "DAEMON-WOULD-NOT-STOP") || len(caseLines(out, "FAIL")) != 1 {
		t.Fatalf("passed=%v\n%s", ok, out)
	}
}

func TestUnavailableWorkerSkipsWithHint(t *testing.T) {
	out, ok := runChild(t, "unavailable", nil)
	if !ok {
		t.Fatalf("child failed:\n%s", out)
	}
	if got := caseLines(out, "SKIP"); len(got) != 1 || got[0] != "TestNothing/worker=needs-frobd" {
		t.Errorf("skipped %v", got)
	}
	if !strings.Contains(out, "worker needs-frobd unavailable: frobd not found in PATH: apt-get install frobd") {
		t.Errorf("no install hint:\n%s", out)
	}
	if strings.Contains(out, "New called") {
		t.Error("an unavailable worker was started")
	}
}

func TestFailedStartPrintsWorkerLogs(t *testing.T) {
	out, ok := runChild(t, "start-fails", nil)
	if ok || strings.Count(out, "FROBD-SAID-THIS-BEFORE-DYING") < 2 || !strings.Contains(out, "frobd exited before it was ready") {
		t.Fatalf("passed=%v\n%s", ok, out)
	}
}

func TestDuplicateTestNamesAreAnError(t *testing.T) {
	out, ok := runChild(t, "duplicate", nil)
	if ok || !strings.Contains(out, `two tests are named "TestX"`) {
		t.Fatalf("passed=%v\n%s", ok, out)
	}
}

func TestSkipSwitches(t *testing.T) {
	for _, c := range []struct {
		env  []string
		args []string
		want string
	}{
		{[]string{"MATRIXBOX_SKIP_INTEGRATION=1"}, nil, "MATRIXBOX_SKIP_INTEGRATION=1"},
		{nil, []string{"-test.short"}, "-short mode"},
	} {
		out, ok := runChild(t, "names", c.env, c.args...)
		if !ok || !strings.Contains(out, c.want) || len(caseLines(out, "PASS")) > 0 {
			t.Errorf("%v %v: passed=%v\n%s", c.env, c.args, ok, out)
		}
	}
}

func TestListStartsNothing(t *testing.T) {
	dir := t.TempDir()
	out, ok := runChild(t, "panic", []string{"MATRIXBOX_CHILD_DIR=" + dir}, "-test.list=.*")
	if !ok || !strings.Contains(out, "TestChild") {
		t.Fatalf("passed=%v\n%s", ok, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "pids")); !os.IsNotExist(err) {
		t.Fatalf("-test.list started a worker (pids file: %v)", err)
	}
}

func TestFuncNames(t *testing.T) {
	tests := TestFuncs(testNothing, func(*testing.T, sandbox.Sandbox) {})
	if tests[0].Name() != "TestNothing" || tests[1].Name() != "TestFuncNames_func1" {
		t.Fatalf("names %q %q", tests[0].Name(), tests[1].Name())
	}
}

func TestSharedBackendStartsOncePerCell(t *testing.T) {
	dir := t.TempDir()
	out, ok := runChild(t, "shared", []string{"MATRIXBOX_CHILD_DIR=" + dir}, "-test.parallel=4")
	if !ok {
		t.Fatalf("child failed:\n%s", out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		count[l]++
	}
	// Per cell: one shared backend for the six shared tests, one fresh
	// backend for each of the two isolated tests; each stopped once.
	for _, cell := range []string{"worker=journal/n=1", "worker=journal/n=2"} {
		if count["new "+cell] != 3 || count["stop "+cell] != 3 {
			t.Errorf("%s: %d starts, %d stops; want 3 and 3\n%s", cell, count["new "+cell], count["stop "+cell], b)
		}
	}
	if got := len(caseLines(out, "PASS")); got != 16 {
		t.Errorf("%d cases passed, want 16", got)
	}
}

func TestSharedBackendStopErrorIsReported(t *testing.T) {
	dir := t.TempDir()
	out, ok := runChild(t, "shared", []string{"MATRIXBOX_CHILD_DIR=" + dir, "MATRIXBOX_CHILD_STOPERR=SHARED-STOP-FAILED"})
	if ok {
		t.Fatalf("child passed:\n%s", out)
	}
	// Two shared backends, each reported once, by Main after the tests.
	if n := strings.Count(out, "stop warm backend of worker=journal/n=1: SHARED-STOP-FAILED"); n != 1 {
		t.Errorf("shared stop error of n=1 reported %d times:\n%s", n, out)
	}
}

func TestWatchdogFailsAHungCaseAndTheRestGoOn(t *testing.T) {
	out, ok := runChild(t, "hang", []string{"MATRIXBOX_WATCHDOG=2s"})
	if ok {
		t.Fatalf("child passed:\n%s", out)
	}
	for _, want := range []string{"watchdog: case still running after 2s", "HUNG-CASE-LOG", "goroutines at watchdog time", "testHangsOnCommand"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if got := caseLines(out, "PASS"); len(got) != 1 {
		t.Errorf("other case: %v", got)
	}
}

func TestWatchdogFiresBeforeGoTestTimeout(t *testing.T) {
	out, _ := runChild(t, "hang", nil, "-test.timeout=40s")
	if !strings.Contains(out, "watchdog: case still running after") || strings.Contains(out, "panic: test timed out") {
		t.Fatalf("want the watchdog to fire before -timeout:\n%s", out)
	}
}

func TestRequirementsAreCheckedBeforeTheBackendStarts(t *testing.T) {
	dir := t.TempDir()
	out, ok := runChild(t, "requires", []string{"MATRIXBOX_CHILD_DIR=" + dir})
	if !ok {
		t.Fatalf("child failed:\n%s", out)
	}
	for _, want := range []string{
		`worker plain lacks feature "frob", which TestNeedsFrob requires`,
		"worker=plain/n=1: NEEDS-AN-EVEN-N",
		"worker=frobbing/n=1: NEEDS-AN-EVEN-N",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	wantPass := []string{"TestNeedsFrob/worker=frobbing/n=1", "TestNeedsFrob/worker=frobbing/n=2", "TestNeedsEvenN/worker=plain/n=2", "TestNeedsEvenN/worker=frobbing/n=2"}
	got := caseLines(out, "PASS")
	sort.Strings(got)
	sort.Strings(wantPass)
	if !reflect.DeepEqual(got, wantPass) {
		t.Errorf("passed %v, want %v", got, wantPass)
	}
	// A backend started only for the cases that ran: never for a skipped
	// cell.
	b, err := os.ReadFile(filepath.Join(dir, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	var started []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if cell, ok := strings.CutPrefix(l, "new "); ok {
			started = append(started, cell)
		}
	}
	sort.Strings(started)
	want := []string{"worker=frobbing/n=1", "worker=frobbing/n=2", "worker=frobbing/n=2", "worker=plain/n=2"}
	if !reflect.DeepEqual(started, want) {
		t.Errorf("backends started for %v, want %v", started, want)
	}
}

func TestFailingCaseLogsArePrintedBeforeTheBackendStops(t *testing.T) {
	out, ok := runChild(t, "logs-while-up", nil)
	if ok {
		t.Fatalf("child passed:\n%s", out)
	}
	up := strings.Index(out, "DAEMON-UP")
	down := strings.Index(out, "DAEMON-SHUTTING-DOWN")
	if up < 0 || down < 0 {
		t.Fatalf("output lacks the daemon's lines:\n%s", out)
	}
	// The first print happens while the backend is up: it holds the test's
	// notes and DAEMON-UP, not the shutdown line, which follows in a second
	// print after the sandbox closed.
	first := out[:down]
	if !strings.Contains(first, "FAILING-CASE-LOG-LINE") || !strings.Contains(first, "DAEMON-UP") {
		t.Errorf("logs were not printed before the backend stopped:\n%s", out)
	}
	if !strings.Contains(out[down-200:], "after its sandbox closed") {
		t.Errorf("the shutdown output is not marked as printed after the close:\n%s", out)
	}
	if strings.Count(out, "DAEMON-UP") != 1 {
		t.Errorf("a log line was printed twice:\n%s", out)
	}
}

// journal reads <dir>/journal and counts its lines.
func journal(t *testing.T, dir string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		count[l]++
	}
	return count
}

func TestWarmBackendsOutliveTheirRun(t *testing.T) {
	dir := t.TempDir()
	out, ok := runChild(t, "warm-runs", []string{"MATRIXBOX_CHILD_DIR=" + dir})
	if !ok {
		t.Fatalf("child failed:\n%s", out)
	}
	count := journal(t, dir)
	// The three shared cases of two Runs: one backend. The four reset cases
	// of two Runs, one at a time: one backend, wiped after each case, and
	// stopped once, by Main after the tests.
	want := map[string]int{
		"new worker=journal/n=1": 1, "stop worker=journal/n=1": 1,
		"new worker=wipeable/n=1": 1, "reset worker=wipeable/n=1": 4, "stop worker=wipeable/n=1": 1,
	}
	if !reflect.DeepEqual(count, want) {
		t.Errorf("journal %v, want %v", count, want)
	}
}

func TestResetFailureGetsTheNextCaseAFreshBackend(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fail-reset"), []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, ok := runChild(t, "warm-runs", []string{"MATRIXBOX_CHILD_DIR=" + dir})
	if !ok {
		t.Fatalf("child failed:\n%s", out)
	}
	if !strings.Contains(out, "the warm backend of worker=wipeable/n=1 is discarded, the next case gets a fresh one: LEFTOVER-THE-WIPE-CANNOT-REMOVE in worker=wipeable/n=1") {
		t.Errorf("the log does not name the leftover:\n%s", out)
	}
	count := journal(t, dir)
	// The first wipe fails: that backend stops, the second case starts a
	// new one, which serves the rest.
	if count["new worker=wipeable/n=1"] != 2 || count["stop worker=wipeable/n=1"] != 2 || count["reset worker=wipeable/n=1"] != 4 {
		t.Errorf("journal %v: want 2 starts, 2 stops, 4 resets of worker=wipeable/n=1", count)
	}
}
