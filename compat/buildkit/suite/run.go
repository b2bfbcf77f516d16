package suite

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// Harness is what runs a suite: matrixbox through the compat layer, or
// BuildKit's own util/testutil/integration.
type Harness string

const (
	Matrixbox Harness = "matrixbox"
	Buildkit  Harness = "buildkit"
)

// Outcomes of a case, as go test reports them.
const (
	Pass = "pass"
	Fail = "fail"
	Skip = "skip"
)

// Run is one run of a suite's test binary on one worker.
type Run struct {
	Suite   string
	Harness Harness
	// Isolation is matrixbox's (MATRIXBOX_COMPAT_ISOLATION), "" on
	// BuildKit's harness.
	Isolation string
	Worker    string
	// Wall is the binary's time from start to exit.
	Wall time.Duration
	// Outcomes are the cases' outcomes by normalized name (see CaseName).
	Outcomes map[string]string
	// Output holds each case's output lines.
	Output map[string][]string
	// Err is how the binary exited (nil when every case passed or skipped).
	Err error
}

// RunOptions says how to run a test binary.
type RunOptions struct {
	Binary    string
	Suite     string
	Harness   Harness
	Isolation string
	Worker    string
	// Tests is a regular expression for the test names ("TestCopyChown");
	// empty means all.
	Tests string
	Env   []string
	// Dir is the working directory.
	Dir string
	// JSON receives go test's JSON events (test2json).
	JSON    io.Writer
	Timeout time.Duration
}

// Pattern is the -test.run pattern that selects tests on worker, with the
// subtest names both harnesses give: <Top>/<Test>/worker=<w>/<key>=<v>...
func Pattern(tests, worker string) string {
	t := ""
	if tests != "" {
		t = "^(" + tests + ")$"
	}
	return "/" + t + "/^worker=" + regexp.QuoteMeta(worker) + "$"
}

// RunBinary runs a suite's test binary under go tool test2json and reads
// the outcome of every case.
func RunBinary(ctx context.Context, o RunOptions) (*Run, error) {
	if _, err := regexp.Compile(o.Tests); err != nil {
		return nil, fmt.Errorf("tests %q: %w", o.Tests, err)
	}
	args := []string{"tool", "test2json", "-t", "-p", o.Suite, o.Binary,
		"-test.v=test2json", "-test.count=1", "-test.run=" + Pattern(o.Tests, o.Worker)}
	if o.Timeout > 0 {
		args = append(args, "-test.timeout="+o.Timeout.String())
	}
	if p := skipPattern(o.Suite); p != "" {
		args = append(args, "-test.skip="+p)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env, cmd.Dir = o.Env, o.Dir
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	r := &Run{Suite: o.Suite, Harness: o.Harness, Isolation: o.Isolation, Worker: o.Worker}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", o.Binary, err)
	}
	var in io.Reader = stdout
	if o.JSON != nil {
		in = io.TeeReader(stdout, o.JSON)
	}
	perr := r.parse(in)
	r.Err = cmd.Wait()
	r.Wall = time.Since(start)
	if perr != nil {
		return r, fmt.Errorf("read the events of %s: %w", o.Binary, perr)
	}
	return r, nil
}

// event is one line of go test -json.
type event struct {
	Action string
	Test   string
	Output string
}

func (r *Run) parse(in io.Reader) error {
	r.Outcomes, r.Output = map[string]string{}, map[string][]string{}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			continue // a line the binary printed outside the test framework
		}
		name, ok := CaseName(e.Test)
		if !ok {
			continue
		}
		switch e.Action {
		case "output":
			r.Output[name] = append(r.Output[name], strings.TrimRight(e.Output, "\n"))
		case Pass, Fail, Skip:
			r.Outcomes[name] = e.Action
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	// A subtest that a test makes of its own (…/frontend=builtin/#00) is
	// part of its case, not a case.
	for name := range r.Outcomes {
		for i := strings.LastIndex(name, "/"); i > 0; i = strings.LastIndex(name[:i], "/") {
			if _, ok := r.Outcomes[name[:i]]; ok {
				delete(r.Outcomes, name)
				delete(r.Output, name)
				break
			}
		}
	}
	return nil
}

// CaseName normalizes the name of a case (a subtest with a worker=
// element) so that both harnesses name it alike: a repeat's "#NN", which
// Go's testing package puts on the last element of BuildKit's names and
// the compat layer puts on the test's, goes to the end. ok is false for a
// name that is not a case.
func CaseName(test string) (name string, ok bool) {
	elems := strings.Split(test, "/")
	repeat := ""
	for i, e := range elems {
		if strings.HasPrefix(e, "worker=") {
			ok = true
		}
		if j := strings.LastIndex(e, "#"); j > 0 && strings.Trim(e[j+1:], "0123456789") == "" && j+1 < len(e) {
			repeat, elems[i] = e[j:], e[:j]
		}
	}
	return strings.Join(elems, "/") + repeat, ok
}

// Label names the run's harness and, on matrixbox, its isolation:
// "buildkit", "matrixbox (reset)".
func (r *Run) Label() string {
	if r.Isolation == "" {
		return string(r.Harness)
	}
	return fmt.Sprintf("%s (%s)", r.Harness, r.Isolation)
}

// Counts returns how many cases passed, failed and were skipped.
func (r *Run) Counts() (pass, fail, skip int) {
	for _, o := range r.Outcomes {
		switch o {
		case Pass:
			pass++
		case Fail:
			fail++
		case Skip:
			skip++
		}
	}
	return pass, fail, skip
}
