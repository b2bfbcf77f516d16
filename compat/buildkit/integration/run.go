package integration

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	mbx "github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/internal/compatopt"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/sandbox"
	mbw "github.com/matrixbox/matrixbox/workers"
)

// workerAxis is matrixbox's axis of the workers.
const workerAxis = "worker"

// Test is one test of a suite.
type Test interface {
	Name() string
	Run(t *testing.T, sb Sandbox)
}

type testFunc struct {
	name string
	run  func(t *testing.T, sb Sandbox)
}

func (f testFunc) Name() string { return f.name }

func (f testFunc) Run(t *testing.T, sb Sandbox) {
	t.Helper()
	f.run(t, sb)
}

// TestFuncs makes one test per function, named as BuildKit names them:
// the function's name with its first letter upper-cased (testBuild becomes
// TestBuild). Two tests of one name fail the Run that gets them.
func TestFuncs(funcs ...func(t *testing.T, sb Sandbox)) []Test {
	tests := make([]Test, 0, len(funcs))
	for _, f := range funcs {
		tests = append(tests, testFunc{name: funcName(f), run: f})
	}
	return tests
}

// TestOpt configures a Run.
type TestOpt func(*testConf)

type testConf struct {
	matrix map[string]map[string]any
	images map[string]string
}

// WithMatrix adds the axis key with one cell per entry of m. A value that is
// a ConfigUpdater changes the buildkitd.toml of its cells.
func WithMatrix(key string, m map[string]any) TestOpt {
	return func(tc *testConf) {
		if tc.matrix == nil {
			tc.matrix = map[string]map[string]any{}
		}
		tc.matrix[key] = m
	}
}

// WithMirroredImages asks for images (name in the mirror → source) to be in
// matrixbox's shared mirror before the Run's first case; see OfficialImages
// for the sources and stand-ins.
func WithMirroredImages(m map[string]string) TestOpt {
	return func(tc *testConf) {
		if tc.images == nil {
			tc.images = map[string]string{}
		}
		maps.Copy(tc.images, m)
	}
}

var (
	registryMu sync.Mutex
	registered []sandbox.Worker
	// standInsLogged holds the stand-ins already logged by this process.
	standInsLogged sync.Map
)

// Register adds a matrixbox worker to those every Run uses, in order. Its
// name is the worker's value in subtest names (worker=oci). The workers
// package of this module registers BuildKit's workers this way.
func Register(w sandbox.Worker) {
	registryMu.Lock()
	defer registryMu.Unlock()
	registered = append(registered, w)
}

// Run runs every test on every registered worker and matrix cell with
// matrixbox's integration.Run, as subtests named as BuildKit names them:
// <Test>/worker=<w>/<key>=<value>/..., the matrix keys sorted by name.
//
// Beyond matrixbox's own environment (MATRIXBOX_SELECT, MATRIXBOX_SHARD,
// MATRIXBOX_PARALLEL, ...) it honours BuildKit's SKIP_INTEGRATION_TESTS=1
// and BUILDKIT_WORKER_RANDOM=1 (one worker chosen at random; the seed is
// logged and BUILDKIT_WORKER_RANDOM_SEED replays it), and
// MATRIXBOX_COMPAT_ISOLATION (fresh, the default; reset: every test on a
// warm backend wiped and proven empty between cases; or shared: every test
// on one warm backend per cell). A test whose name ends in NoParallel runs
// alone; a test listed twice runs twice, the second time as <Test>#01.
func Run(t *testing.T, testCases []Test, opt ...TestOpt) {
	t.Helper()
	if os.Getenv("SKIP_INTEGRATION_TESTS") == "1" {
		t.Skip("SKIP_INTEGRATION_TESTS=1")
	}
	var tc testConf
	for _, o := range opt {
		o(&tc)
	}
	isolation, err := isolationFromEnv()
	if err != nil {
		t.Fatalf("matrixbox compat: %v", err)
	}
	ws, err := runWorkers(t)
	if err != nil {
		t.Fatalf("matrixbox compat: %v", err)
	}
	images, standIns, err := mirrorSources(tc.images)
	if err != nil {
		t.Fatalf("matrixbox compat: %v", err)
	}
	for _, s := range standIns {
		if _, logged := standInsLogged.LoadOrStore(s, true); !logged {
			t.Logf("matrixbox compat: stand-in image: %s", s)
		}
	}

	tests := make([]mbx.Test, 0, len(testCases))
	seen := map[string]int{}
	for _, c := range testCases {
		var props []mbx.TestOption
		if strings.HasSuffix(c.Name(), "NoParallel") {
			props = append(props, mbx.Serial())
		}
		// BuildKit's harness skips a test named NoRootless on its
		// rootless workers; here its cells there skip before a daemon
		// starts, naming the feature they lack.
		if strings.Contains(c.Name(), "NoRootless") {
			props = append(props, mbx.Requires(mbw.FeatureRootful))
		}
		props = append(props, isolation...)
		run := c.Run
		tests = append(tests, mbx.NewTest(uniqueName(seen, c.Name()), func(t *testing.T, sb sandbox.Sandbox) {
			run(t, box{sb: sb})
		}, props...))
	}
	// Refusals are logged, not failed on, as BuildKit's harness does
	// (see compatopt.LogRefusals).
	opts := []mbx.Option{mbx.WithWorkers(ws...), mbx.WithMirror(mirror.Shared()), compatopt.LogRefusals.(mbx.Option)}
	for _, key := range slices.Sorted(maps.Keys(tc.matrix)) {
		opts = append(opts, mbx.WithAxes(matrix.FromMap(key, tc.matrix[key])))
	}
	if len(images) > 0 {
		opts = append(opts, mbx.WithMirroredImages(images))
	}
	mbx.Run(t, tests, opts...)
}

// uniqueName is name, or name#01, name#02, ... for its repeats in one Run:
// BuildKit's harness runs a test listed twice twice, and Go's testing
// package numbers the repeats so.
func uniqueName(seen map[string]int, name string) string {
	n := seen[name]
	seen[name]++
	if n == 0 {
		return name
	}
	return fmt.Sprintf("%s#%02d", name, n)
}

// runWorkers returns the registered workers, or one of them at random under
// BUILDKIT_WORKER_RANDOM=1.
func runWorkers(t *testing.T) ([]sandbox.Worker, error) {
	registryMu.Lock()
	ws := slices.Clone(registered)
	registryMu.Unlock()
	if len(ws) == 0 {
		return nil, fmt.Errorf("no workers registered: call workers.InitOCIWorker (or another Init*Worker) of github.com/matrixbox/matrixbox/compat/buildkit/workers, as BuildKit's suites do in an init function")
	}
	if os.Getenv("BUILDKIT_WORKER_RANDOM") != "1" {
		return ws, nil
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("BUILDKIT_WORKER_RANDOM_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("BUILDKIT_WORKER_RANDOM_SEED=%q: want an unsigned integer", s)
		}
		seed = v
	}
	w := ws[rand.New(rand.NewPCG(seed, 0)).IntN(len(ws))]
	t.Logf("matrixbox compat: BUILDKIT_WORKER_RANDOM=1 chose worker %s (BUILDKIT_WORKER_RANDOM_SEED=%d replays it)", w.Name(), seed)
	return []sandbox.Worker{w}, nil
}

// EnvIsolation names the variable that chooses how the tests of every Run
// get backends: fresh (default), reset or shared.
const EnvIsolation = "MATRIXBOX_COMPAT_ISOLATION"

// isolations maps each value of EnvIsolation to the matrixbox test options
// that give it.
var isolations = map[string][]mbx.TestOption{
	"fresh":  nil,
	"reset":  {mbx.ResetBackend()},
	"shared": {mbx.SharedBackend()},
}

func isolationFromEnv() ([]mbx.TestOption, error) {
	v := os.Getenv(EnvIsolation)
	if v == "" {
		return nil, nil
	}
	opts, ok := isolations[v]
	if !ok {
		return nil, fmt.Errorf("%s=%q: want one of %s", EnvIsolation, v, strings.Join(slices.Sorted(maps.Keys(isolations)), ", "))
	}
	return opts, nil
}
