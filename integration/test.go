package integration

import (
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
)

// Test is one test of a suite; Run runs it once per cell.
type Test interface {
	Name() string
	Run(t *testing.T, sb sandbox.Sandbox)
}

// TestOption marks a test with a property.
type TestOption func(*props)

type props struct {
	serial    bool
	isolation isolation
	// needs are features the worker must have; cellChecks are further
	// requirements of the cell. Both are evaluated before a backend starts.
	needs      []string
	cellChecks []func(matrix.Cell) error
}

// Serial runs the test's cases one at a time, never alongside other cases of
// its Run: for tests that change something global.
func Serial() TestOption { return func(p *props) { p.serial = true } }

// SharedBackend declares that the test leaves the backend's state alone, so
// its cases may run on one warm backend per worker and cell, at the same
// time as the other such cases of any Run of the process, instead of a
// fresh one each.
func SharedBackend() TestOption { return func(p *props) { p.isolation = shared } }

// ResetBackend lets the test's cases run on a warm backend that is wiped,
// and proven empty, between two cases: a daemon as empty as a fresh one at
// a fraction of the cost of starting it. Each case has the backend to
// itself; a backend whose wipe or proof fails is discarded and the next
// case gets a fresh one, with a log line saying what was left. Workers whose
// backends are no sandbox.Resetter get a fresh backend for every case.
func ResetBackend() TestOption { return func(p *props) { p.isolation = reset } }

// Requires declares the features the test needs of its worker: names a
// worker declares (workers.WithFeatures, or the feature set of a kit such as
// buildkittest). A cell whose worker lacks one is skipped before its backend
// starts, with a line naming the feature and the worker.
func Requires(features ...string) TestOption {
	return func(p *props) { p.needs = append(p.needs, features...) }
}

// RequireCell skips the cells for which check returns an error, before
// their backend starts; the error is the skip reason. It is for what a test
// needs of the machine or of the cell's values: a platform this machine
// cannot run, root, a tool on PATH.
func RequireCell(check func(c matrix.Cell) error) TestOption {
	return func(p *props) { p.cellChecks = append(p.cellChecks, check) }
}

type testFunc struct {
	name string
	fn   func(*testing.T, sandbox.Sandbox)
	props
}

func (f *testFunc) Name() string                         { return f.name }
func (f *testFunc) Run(t *testing.T, sb sandbox.Sandbox) { f.fn(t, sb) }
func (f *testFunc) testProps() props                     { return f.props }

// propertied is how Run reads options off tests made by this package.
type propertied interface{ testProps() props }

func propsOf(t Test) props {
	if p, ok := t.(propertied); ok {
		return p.testProps()
	}
	return props{}
}

// TestFuncs makes one test per function, named after the function
// (testBuild becomes TestBuild). Two functions with the same name are
// reported by Run.
func TestFuncs(fns ...func(t *testing.T, sb sandbox.Sandbox)) []Test {
	tests := make([]Test, 0, len(fns))
	for _, fn := range fns {
		tests = append(tests, &testFunc{name: funcName(fn), fn: fn})
	}
	return tests
}

// NewTest makes a test with an explicit name and options.
func NewTest(name string, fn func(t *testing.T, sb sandbox.Sandbox), opts ...TestOption) Test {
	tf := &testFunc{name: name, fn: fn}
	for _, o := range opts {
		o(&tf.props)
	}
	return tf
}

// With returns tests with opts applied; tests not made by this package are
// wrapped, keeping their names.
func With(tests []Test, opts ...TestOption) []Test {
	out := make([]Test, 0, len(tests))
	for _, t := range tests {
		tf := &testFunc{name: t.Name(), fn: t.Run, props: propsOf(t).clone()}
		for _, o := range opts {
			o(&tf.props)
		}
		out = append(out, tf)
	}
	return out
}

func funcName(fn any) string {
	full := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
	full = strings.TrimSuffix(full, "-fm")
	// A closure is named like pkg.TestOuter.func1: keep the outer name so
	// closures of different tests do not collide.
	parts := strings.Split(full[strings.LastIndex(full, "/")+1:], ".")
	name := parts[len(parts)-1]
	if len(parts) > 2 && strings.HasPrefix(name, "func") && strings.Trim(name[4:], "0123456789.") == "" {
		name = parts[len(parts)-2] + "_" + name
	}
	if name == "" {
		return full
	}
	r := []rune(name)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// clone copies p so that options applied to one test never reach another
// that shares its slices.
func (p props) clone() props {
	p.needs = slices.Clone(p.needs)
	p.cellChecks = slices.Clone(p.cellChecks)
	return p
}
