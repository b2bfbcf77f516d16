package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/internal/hostworker"
	"github.com/matrixbox/matrixbox/internal/testkit"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
)

// The tests in this file run the test binary again as a child `go test`
// process, selecting TestChild with MATRIXBOX_CHILD=<scenario>, and read its
// output and exit status: what a user sees is what is checked.

const childEnv = "MATRIXBOX_CHILD"

// TestMain stops the warm backends after the tests, as a suite's TestMain
// does with integration.Main.
func TestMain(m *testing.M) { os.Exit(Main(m)) }

// TestChild is the body of the child processes; it does nothing in a normal run.
func TestChild(t *testing.T) {
	scenario := os.Getenv(childEnv)
	if scenario == "" {
		t.Skip("runs only as a child of the other tests in this package")
	}
	f, ok := scenarios[scenario]
	if !ok {
		t.Fatalf("unknown scenario %q", scenario)
	}
	f(t)
}

var scenarios = map[string]func(t *testing.T){
	"logs": func(t *testing.T) {
		Run(t, TestFuncs(testPassesWithLog, testFailsWithLog), WithAxes(matrix.FromMap("n", map[string]any{"a": 1, "b": 2})))
	},
	"names": func(t *testing.T) {
		Run(t, TestFuncs(testNothing, testAlsoNothing),
			WithWorkers(hostworker.New(), countingWorker{name: "second"}),
			WithAxes(matrix.FromMap("color", map[string]any{"red": 1, "blue": 2, "green": 3})),
			WithAxes(matrix.Strings("size", "s", "m", "l")),
			WithExclude("worker=second,color=green"))
	},
	"parallel": func(t *testing.T) {
		var tests []Test
		for i := 0; i < 8; i++ {
			tests = append(tests, NewTest(fmt.Sprintf("TestSleep%d", i), func(t *testing.T, sb sandbox.Sandbox) {
				time.Sleep(150 * time.Millisecond)
			}))
		}
		Run(t, tests, WithWorkers(countingWorker{name: "counting", dir: os.Getenv("MATRIXBOX_CHILD_DIR")}))
	},
	"panic": func(t *testing.T) {
		Run(t, TestFuncs(testPanics, testNothing), WithWorkers(sleeperWorker{dir: os.Getenv("MATRIXBOX_CHILD_DIR")}))
	},
	"crash": func(t *testing.T) {
		// A panic on a goroutine of the test cannot be recovered: the process
		// dies, and the parent-death signal must still take the daemon down.
		Run(t, TestFuncs(testPanicsOffGoroutine), WithWorkers(sleeperWorker{dir: os.Getenv("MATRIXBOX_CHILD_DIR")}))
	},
	"cleanup-error": func(t *testing.T) {
		Run(t, TestFuncs(testNothing), WithWorkers(stopFailsWorker{}))
	},
	"unavailable": func(t *testing.T) {
		Run(t, TestFuncs(testNothing), WithWorkers(hostworker.New(), unavailableWorker{}))
	},
	"unsupported": func(t *testing.T) {
		Run(t, TestFuncs(testNothing), WithWorkers(hostworker.New(), unsupportedWorker{}))
	},
	"start-fails": func(t *testing.T) {
		Run(t, TestFuncs(testNothing, testAlsoNothing), WithWorkers(startFailsWorker{}))
	},
	"serial": func(t *testing.T) {
		var live, peak atomic.Int32
		body := func(t *testing.T, sb sandbox.Sandbox) {
			n := live.Add(1)
			defer live.Add(-1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		tests := With([]Test{NewTest("TestA", body), NewTest("TestB", body), NewTest("TestC", body)}, Serial())
		Run(t, tests, WithAxes(matrix.FromMap("n", map[string]any{"1": 1, "2": 2})))
		t.Logf("serial peak %d", peak.Load())
	},
	"shared": func(t *testing.T) {
		var tests []Test
		for i := 0; i < 6; i++ {
			tests = append(tests, NewTest(fmt.Sprintf("TestShared%d", i), testNothing, SharedBackend()))
		}
		tests = append(tests, NewTest("TestIsolatedA", testNothing), NewTest("TestIsolatedB", testNothing))
		stopErr := os.Getenv("MATRIXBOX_CHILD_STOPERR")
		Run(t, tests, WithWorkers(journalWorker{dir: os.Getenv("MATRIXBOX_CHILD_DIR"), stopErr: stopErr}),
			WithAxes(matrix.FromMap("n", map[string]any{"1": 1, "2": 2})))
	},
	"hang": func(t *testing.T) {
		Run(t, TestFuncs(testHangsOnCommand, testNothing))
	},
	"requires": func(t *testing.T) {
		dir := os.Getenv("MATRIXBOX_CHILD_DIR")
		tests := []Test{
			NewTest("TestNeedsFrob", testNothing, Requires("frob")),
			NewTest("TestNeedsEvenN", testNothing, RequireCell(func(c matrix.Cell) error {
				if c.Value("n") == 1 {
					return errors.New("NEEDS-AN-EVEN-N")
				}
				return nil
			})),
		}
		Run(t, tests,
			WithWorkers(journalWorker{name: "plain", dir: dir}, featureWorker{journalWorker{name: "frobbing", dir: dir}, "frob"}),
			WithAxes(matrix.FromMap("n", map[string]any{"1": 1, "2": 2})))
	},
	"warm-runs": func(t *testing.T) {
		// Four Runs one after the other: warm backends outlive their Run.
		dir := os.Getenv("MATRIXBOX_CHILD_DIR")
		one := WithAxes(matrix.FromMap("n", map[string]any{"1": 1}))
		t.Run("SharedA", func(t *testing.T) {
			Run(t, With(TestFuncs(testNothing, testAlsoNothing), SharedBackend()), WithWorkers(journalWorker{dir: dir}), one)
		})
		t.Run("SharedB", func(t *testing.T) {
			Run(t, With(TestFuncs(testNothing), SharedBackend()), WithWorkers(journalWorker{dir: dir}), one)
		})
		wipeable := resettingWorker{journalWorker{name: "wipeable", dir: dir}}
		t.Run("ResetA", func(t *testing.T) {
			Run(t, With(TestFuncs(testNothing, testAlsoNothing), ResetBackend(), Serial()), WithWorkers(wipeable), one)
		})
		t.Run("ResetB", func(t *testing.T) {
			Run(t, With(TestFuncs(testNothing, testAlsoNothing), ResetBackend(), Serial()), WithWorkers(wipeable), one)
		})
	},
	"logs-while-up": func(t *testing.T) {
		Run(t, TestFuncs(testFailsWithLog), WithWorkers(loudStopWorker{}))
	},
	"duplicate": func(t *testing.T) {
		Run(t, []Test{NewTest("TestX", testNothing), NewTest("TestX", testNothing)})
	},
}

func testNothing(t *testing.T, sb sandbox.Sandbox)     {}
func testAlsoNothing(t *testing.T, sb sandbox.Sandbox) {}

// The two tests add a buffer of their own, so the check also covers
// buffers the harness did not make.
func testPassesWithLog(t *testing.T, sb sandbox.Sandbox) {
	sb.Logs().Printf("test-notes", "PASSING-CASE-LOG-LINE %s", sb.Name())
}

func testFailsWithLog(t *testing.T, sb sandbox.Sandbox) {
	sb.Logs().Printf("test-notes", "FAILING-CASE-LOG-LINE %s", sb.Name())
	t.Error("this case fails on purpose")
}

// testHangsOnCommand blocks on a command that never ends; only the
// watchdog's abort of the sandbox lets it return.
func testHangsOnCommand(t *testing.T, sb sandbox.Sandbox) {
	sb.Logs().Printf("hung", "HUNG-CASE-LOG")
	_ = sb.Cmd("sleep", "600").Run()
}

func testPanics(t *testing.T, sb sandbox.Sandbox) {
	panic("deliberate panic in a test")
}

func testPanicsOffGoroutine(t *testing.T, sb sandbox.Sandbox) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		panic("deliberate panic off the test goroutine")
	}()
	<-done
}

// countingWorker records how many of its backends are alive at once in
// <dir>/peak, so a parent can check the parallelism bound.
type countingWorker struct {
	name string
	dir  string
}

var liveBackends, peakBackends atomic.Int32

func (w countingWorker) Name() string { return w.name }
func (w countingWorker) New(context.Context, *sandbox.Config) (sandbox.Backend, func() error, error) {
	n := liveBackends.Add(1)
	for {
		p := peakBackends.Load()
		if n <= p || peakBackends.CompareAndSwap(p, n) {
			break
		}
	}
	if w.dir != "" {
		if err := os.WriteFile(filepath.Join(w.dir, "peak"), []byte(fmt.Sprint(peakBackends.Load())), 0o644); err != nil {
			return nil, nil, err
		}
	}
	return hostBackend{}, func() error { liveBackends.Add(-1); return nil }, nil
}

type hostBackend struct{}

func (hostBackend) Address() string { return "" }

// sleeperWorker runs a real supervised process and writes its pid to
// <dir>/pids, so the parent can check that nothing outlives the run.
type sleeperWorker struct{ dir string }

func (sleeperWorker) Name() string { return "sleeper" }
func (w sleeperWorker) New(ctx context.Context, cfg *sandbox.Config) (sandbox.Backend, func() error, error) {
	p, err := cfg.Start("sleeper", exec.Command("sleep", "600"))
	if err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(filepath.Join(w.dir, "pids"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err == nil {
		fmt.Fprintln(f, p.Pid())
		f.Close()
	}
	return hostBackend{}, func() error { return p.Stop(5 * time.Second) }, nil
}

type stopFailsWorker struct{}

func (stopFailsWorker) Name() string { return "stopfails" }
func (stopFailsWorker) New(context.Context, *sandbox.Config) (sandbox.Backend, func() error, error) {
	return hostBackend{}, func() error { return errors.New("DAEMON-WOULD-NOT-STOP") }, nil
}

type unavailableWorker struct{}

func (unavailableWorker) Name() string { return "needs-frobd" }
func (unavailableWorker) Check() error {
	return errors.New("frobd not found in PATH: apt-get install frobd")
}
func (unavailableWorker) New(context.Context, *sandbox.Config) (sandbox.Backend, func() error, error) {
	return nil, nil, errors.New("New called on an unavailable worker")
}

// unsupportedWorker's Check says its cell cannot be: a skip in strict
// mode too.
type unsupportedWorker struct{}

func (unsupportedWorker) Name() string { return "frobd-new-store" }
func (unsupportedWorker) Check() error {
	return fmt.Errorf("frobd 1.0 has no new store: %w", errors.ErrUnsupported)
}
func (unsupportedWorker) New(context.Context, *sandbox.Config) (sandbox.Backend, func() error, error) {
	return nil, nil, errors.New("New called on a worker whose cell cannot be")
}

type startFailsWorker struct{}

func (startFailsWorker) Name() string { return "startfails" }
func (startFailsWorker) New(_ context.Context, cfg *sandbox.Config) (sandbox.Backend, func() error, error) {
	cfg.Logs.Printf("frobd", "FROBD-SAID-THIS-BEFORE-DYING")
	return nil, nil, errors.New("frobd exited before it was ready")
}

// runChild runs TestChild in a child process with the scenario and extra
// environment (and none of the parent's MATRIXBOX_ variables), and returns
// its combined output and whether it passed.
func runChild(t *testing.T, scenario string, env []string, args ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(testkit.Self(), append([]string{"-test.run=^TestChild$", "-test.v", "-test.count=1"}, args...)...)
	cmd.Env = append(testkit.Environ(testkit.MatrixboxVar), childEnv+"="+scenario)
	cmd.Env = append(cmd.Env, env...)
	return testkit.Run(t, cmd)
}

// caseLines returns the case names of "--- <STATUS>: " lines under TestChild/.
func caseLines(out, status string) []string {
	var names []string
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		prefix := "--- " + status + ": TestChild/"
		if strings.HasPrefix(line, prefix) {
			name := strings.TrimPrefix(line, prefix)
			if i := strings.LastIndex(name, " ("); i >= 0 {
				name = name[:i]
			}
			names = append(names, name)
		}
	}
	return names
}

// journalWorker appends "new <cell>" and "stop <cell>" lines to <dir>/journal.
type journalWorker struct{ name, dir, stopErr string }

func (w journalWorker) Name() string {
	if w.name == "" {
		return "journal"
	}
	return w.name
}
func (w journalWorker) New(_ context.Context, cfg *sandbox.Config) (sandbox.Backend, func() error, error) {
	w.note("new " + cfg.Cell.Name())
	return hostBackend{}, func() error {
		w.note("stop " + cfg.Cell.Name())
		if w.stopErr != "" {
			return errors.New(w.stopErr)
		}
		return nil
	}, nil
}

func (w journalWorker) note(line string) {
	f, err := os.OpenFile(filepath.Join(w.dir, "journal"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err == nil {
		fmt.Fprintln(f, line)
		f.Close()
	}
}

// featureWorker is a journalWorker that declares one feature.
type featureWorker struct {
	journalWorker
	feature string
}

func (w featureWorker) Supports(f string) bool { return f == w.feature }

// loudStopWorker's backend writes to its log while it stops, after the
// case has failed.
type loudStopWorker struct{}

func (loudStopWorker) Name() string { return "loudstop" }
func (loudStopWorker) New(_ context.Context, cfg *sandbox.Config) (sandbox.Backend, func() error, error) {
	cfg.Logs.Printf("daemon", "DAEMON-UP")
	return hostBackend{}, func() error {
		cfg.Logs.Printf("daemon", "DAEMON-SHUTTING-DOWN")
		return nil
	}, nil
}

// resettingWorker is a journalWorker whose backends can be wiped: each
// Reset notes "reset <cell>" and fails, naming a leftover, while the file
// <dir>/fail-reset holds a number above zero (counted down).
type resettingWorker struct{ journalWorker }

func (w resettingWorker) New(ctx context.Context, cfg *sandbox.Config) (sandbox.Backend, func() error, error) {
	_, stop, err := w.journalWorker.New(ctx, cfg)
	return resettingBackend{w: w, cell: cfg.Cell.Name()}, stop, err
}

type resettingBackend struct {
	w    resettingWorker
	cell string
}

func (resettingBackend) Address() string { return "" }

func (b resettingBackend) Reset(context.Context) error {
	b.w.note("reset " + b.cell)
	p := filepath.Join(b.w.dir, "fail-reset")
	data, err := os.ReadFile(p)
	if n, _ := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && n > 0 {
		_ = os.WriteFile(p, []byte(strconv.Itoa(n-1)), 0o644)
		return errors.New("LEFTOVER-THE-WIPE-CANNOT-REMOVE in " + b.cell)
	}
	return nil
}
