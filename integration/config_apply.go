package integration

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/matrixbox/matrixbox/internal/hostworker"
	"github.com/matrixbox/matrixbox/internal/repoconfig"
	"github.com/matrixbox/matrixbox/internal/suggest"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
)

var (
	decodersMu sync.Mutex
	decoders   = map[string]func(string) (matrix.Value, error){}
)

// registerAxisDecoder makes config files decode the values of axis with
// decode ([WithAxisDecoder]).
func registerAxisDecoder(axis string, decode func(string) (matrix.Value, error)) {
	decodersMu.Lock()
	defer decodersMu.Unlock()
	decoders[axis] = decode
}

func decodeAxisValue(axis, s string) (matrix.Value, error) {
	decodersMu.Lock()
	d := decoders[axis]
	decodersMu.Unlock()
	if d == nil {
		return matrix.Value{Name: s, V: s}, nil
	}
	return d(s)
}

// decodeFileAxis returns the values of a file's axis: each decoded by the
// decoder registered for the axis (given to [Main] by [WithAxisDecoder]),
// or a plain string when it has none; a value named as one of code's keeps
// code's typed value, without a decoder being asked. An error names the
// file, the line and the key.
func decodeFileAxis(a repoconfig.Axis, code map[string]matrix.Value) ([]matrix.Value, error) {
	var out []matrix.Value
	for i, s := range a.Values {
		v, ok := code[s]
		if !ok {
			var err error
			if v, err = decodeAxisValue(a.Name, s); err != nil {
				return nil, fmt.Errorf("%s: value %q does not decode: %v", a.Where(i), s, err)
			}
			if cv, ok := code[v.Name]; ok {
				v = cv
			}
		}
		if err := matrix.NewAxis(a.Name, v).Validate(); err != nil {
			return nil, fmt.Errorf("%s: %v", a.Where(i), err)
		}
		out = append(out, v)
	}
	if err := matrix.NewAxis(a.Name, out...).Validate(); err != nil {
		return nil, fmt.Errorf("%s: %v", a.Where(0), err)
	}
	return out, nil
}

// applyConfig applies the repo config to a Run: environment over config
// over code. It returns the workers to use and notes for the test log.
// What the Run does not have (an axis it does not declare, a worker it
// lacks) is left aside with a note, so that one file serves every suite of
// a module.
func applyConfig(fc *repoconfig.File, st *settings, cfg *config, workers []sandbox.Worker) ([]sandbox.Worker, []string, error) {
	if fc == nil {
		return workers, nil, nil
	}
	var notes []string
	if len(fc.Workers) > 0 {
		var note string
		var err error
		if workers, note, err = selectWorkers(fc, workers); err != nil {
			return nil, nil, err
		}
		if note != "" {
			notes = append(notes, note)
		}
	}
	for _, fa := range fc.Axes {
		i := axisIndex(cfg.axes, fa.Name)
		if i < 0 && ownsAxis(workers, fa.Name) {
			// A worker's own axis: its daemon's versions, by name; the
			// worker says which it knows when its cells are checked.
			values, err := decodeFileAxis(fa, nil)
			if err != nil {
				return nil, nil, err
			}
			if cfg.workerAxes == nil {
				cfg.workerAxes = map[string][]matrix.Value{}
			}
			cfg.workerAxes[fa.Name] = values
			continue
		}
		if i < 0 {
			notes = append(notes, fmt.Sprintf("%s: not an axis of this Run; ignored", fa.Where(0)))
			continue
		}
		code := map[string]matrix.Value{}
		for _, v := range cfg.axes[i].Values {
			code[v.Name] = v
		}
		values, err := decodeFileAxis(fa, code)
		if err != nil {
			return nil, nil, err
		}
		cfg.axes[i] = matrix.NewAxis(fa.Name, values...)
	}
	if st.selector.Empty() && fc.Select != "" {
		sel, err := matrix.ParseSelector(fc.Select)
		if err != nil {
			return nil, nil, fmt.Errorf("%s:%d: select: %w", fc.Path, fc.Line("select"), err)
		}
		st.selector = sel
	}
	cfg.excludes = append(cfg.excludes, fc.Exclude...)
	st.ext.quarantine = fc.Quarantine
	if !st.strictSet && fc.Strict {
		st.strict = true
	}
	return workers, notes, nil
}

// ownsAxis says whether one of workers has axis as an axis of its own
// ([sandbox.Versioned]).
func ownsAxis(workers []sandbox.Worker, axis string) bool {
	for _, w := range workers {
		if v, ok := w.(sandbox.Versioned); ok && axisIndex(v.Axes(), axis) >= 0 {
			return true
		}
	}
	return false
}

func axisIndex(axes []matrix.Axis, name string) int {
	for i, a := range axes {
		if a.Name == name {
			return i
		}
	}
	return -1
}

// selectWorkers keeps, in the file's order, the workers the file names
// among those of the Run. Naming one the Run lacks is fine (another suite
// of the module has it), unless it is a typo of one the Run has (see
// misspeltWorkers); leaving the Run none is an error.
func selectWorkers(fc *repoconfig.File, workers []sandbox.Worker) ([]sandbox.Worker, string, error) {
	if len(workers) == 0 {
		workers = defaultWorkers()
	}
	byName := map[string]sandbox.Worker{}
	var names []string
	for _, w := range workers {
		if w != nil {
			byName[w.Name()] = w
			names = append(names, w.Name())
		}
	}
	sort.Strings(names)
	var kept []sandbox.Worker
	var absent []string
	for _, n := range fc.Workers {
		if w, ok := byName[n]; ok {
			kept = append(kept, w)
		} else {
			absent = append(absent, n)
		}
	}
	if err := misspeltWorkers(fc, absent, names); err != nil {
		return nil, "", err
	}
	where := fmt.Sprintf("%s:%d: workers", fc.Path, fc.Line("workers"))
	if len(kept) == 0 {
		return nil, "", fmt.Errorf("%s: none of %s is a worker of this Run, which has %s", where, strings.Join(fc.Workers, ", "), strings.Join(names, ", "))
	}
	note := ""
	if len(absent) > 0 {
		note = fmt.Sprintf("%s: %s not a worker of this Run (it has %s); ignored", where, strings.Join(absent, ", "), strings.Join(names, ", "))
	}
	return kept, note, nil
}

// misspeltWorkers fails the names of absent (named by the file, lacked by
// the Run) that are typos of a worker the Run has (see typo), and not the
// name of a worker this process knows otherwise (a remote one). That keeps both promises of the file: a
// worker of another suite of the module is left aside, as its name is no
// typo of this Run's; and a misspelt name is caught, in every mode, by
// each suite that has the worker it was meant for, which is the suite it
// would otherwise have narrowed in silence.
func misspeltWorkers(fc *repoconfig.File, absent, have []string) error {
	if len(absent) == 0 {
		return nil
	}
	known := map[string]bool{}
	for _, r := range fc.Remote {
		known[r.Name] = true
	}
	if specs, err := remoteSpecsFromEnv(); err == nil {
		for _, r := range specs {
			known[r.Name] = true
		}
	}
	var errs []string
	for _, n := range absent {
		if known[n] {
			continue
		}
		if near, ok := suggest.Nearest(n, have); ok && typo(n, near) {
			errs = append(errs, fmt.Sprintf("%s:%d: workers: %q is not a worker of this Run, which has %s: did you mean %s?",
				fc.Path, fc.WorkerLine(n), n, strings.Join(have, ", "), near))
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "\n"))
	}
	return nil
}

// typo says whether name is near enough to near, a worker of the Run, to
// be a typo of it: at most two edits, and fewer than half the letters of
// either ("b" is no typo of "a").
func typo(name, near string) bool {
	d := suggest.Distance(name, near)
	return d <= 2 && 2*d < min(len(name), len(near))
}

func defaultWorkers() []sandbox.Worker {
	return []sandbox.Worker{hostworker.New()}
}

// applyRepoConfig loads the repo's config file, if any, and applies it.
func applyRepoConfig(t *testing.T, st *settings, cfg *config, workers []sandbox.Worker) ([]sandbox.Worker, error) {
	t.Helper()
	fc, err := repoConfig()
	if err != nil {
		return nil, err
	}
	ws, notes, err := applyConfig(fc, st, cfg, workers)
	for _, n := range notes {
		t.Log("matrixbox: " + n)
	}
	return ws, err
}

var (
	configCacheMu sync.Mutex
	configCache   = map[string]*onceValue[*repoconfig.File]{}
)

// repoConfig finds and loads the config for this process once per path.
func repoConfig() (*repoconfig.File, error) {
	path, err := repoconfig.Find(".")
	if err != nil || path == "" {
		return nil, err
	}
	configCacheMu.Lock()
	o := configCache[path]
	if o == nil {
		o = &onceValue[*repoconfig.File]{}
		configCache[path] = o
	}
	configCacheMu.Unlock()
	return o.get(func() (*repoconfig.File, error) { return repoconfig.Load(path) })
}
