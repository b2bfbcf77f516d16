package integration

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/matrixbox/matrixbox/internal/hostworker"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
)

// WorkerAxis is the name of the axis that holds the worker.
const WorkerAxis = "worker"

// caseSpec is one (test, cell) pair that survived selection and sharding.
type caseSpec struct {
	name   string // <Test>/worker=<w>/<axis>=<value>/...
	test   Test
	props  props
	cell   matrix.Cell
	worker sandbox.Worker
	// workerKey names the worker at the cell's versions: its checks are
	// made once per Run for each.
	workerKey string
}

// plan is what a Run will do, computed without starting anything.
type plan struct {
	cases    []caseSpec
	total    int // cases before selection and sharding
	selected int // cases after selection, before sharding
	dropped  []string
	axes     []matrix.Axis // the worker axis, the workers' own axes, then the Run's
}

// makePlan expands tests × workers × axes, in declaration order, and keeps
// the cases that pass exclusions, the selection and this process's shard.
// parent is the full name of the test that called Run.
func makePlan(parent string, tests []Test, workers []sandbox.Worker, cfg *config, st settings) (*plan, error) {
	if len(tests) == 0 {
		return nil, errors.New("no tests given")
	}
	if len(workers) == 0 {
		workers = []sandbox.Worker{hostworker.New()}
	}
	cells, axes, err := expandWorkers(workers, cfg)
	if err != nil {
		return nil, err
	}
	var excludes []matrix.Selector
	for _, e := range cfg.excludes {
		sel, err := matrix.ParseSelector(e)
		if err != nil {
			return nil, fmt.Errorf("WithExclude: %w", err)
		}
		if sel.Empty() {
			return nil, fmt.Errorf("WithExclude(%q): an empty exclusion would drop every cell", e)
		}
		excludes = append(excludes, sel)
	}
	declared := map[string]bool{}
	for _, a := range axes {
		declared[a.Name] = true
	}
	p := &plan{axes: axes}
	for _, ax := range st.selector.Axes() {
		if !declared[ax] {
			p.dropped = append(p.dropped, fmt.Sprintf("%s names axis %q, which this Run does not have: no cell matches", envSelect, ax))
		}
	}
	seen := map[string]bool{}
	var selected []caseSpec
	for _, tc := range tests {
		if tc == nil {
			return nil, errors.New("a nil test was given")
		}
		name := tc.Name()
		if strings.ContainsAny(name, "/ \t\n") || name == "" {
			return nil, fmt.Errorf("test name %q: must be non-empty with no '/' or spaces", name)
		}
		if seen[name] {
			return nil, fmt.Errorf("two tests are named %q (give one a name with integration.NewTest)", name)
		}
		seen[name] = true
	cells:
		for _, wc := range cells {
			c := wc.cell
			p.total++
			for _, ex := range excludes {
				if ex.Match(c) {
					continue cells
				}
			}
			if !st.selector.Match(c) {
				continue
			}
			selected = append(selected, caseSpec{name: name + "/" + c.Name(), test: tc, props: propsOf(tc), cell: c,
				worker: wc.worker, workerKey: wc.key})
		}
	}
	p.selected = len(selected)
	for i, mine := range st.assignShards(parent, selected) {
		if mine {
			p.cases = append(p.cases, selected[i])
		}
	}
	return p, nil
}

// workerCell is a cell and the worker that runs it: for a
// [sandbox.Versioned] worker, the one of the cell's versions.
type workerCell struct {
	cell   matrix.Cell
	worker sandbox.Worker
	key    string // the worker and its versions: "worker=w/buildkit=v0.34.2"
}

// expandWorkers returns the cells of every worker, in the order of the
// workers: each worker's own axes (its daemon versions) right after it,
// then the Run's axes. axes are the worker axis, the workers' own axes
// (their values merged in order) and the Run's, for messages about the
// selection. The values of a worker's own axis are the code's, unless
// matrixbox.yaml names them (cfg.workerAxes).
func expandWorkers(workers []sandbox.Worker, cfg *config) ([]workerCell, []matrix.Axis, error) {
	runAxes := map[string]bool{WorkerAxis: true}
	for _, a := range cfg.axes {
		if a.Name == WorkerAxis {
			return nil, nil, fmt.Errorf("axis %q is reserved for the workers; use WithWorkers", WorkerAxis)
		}
		runAxes[a.Name] = true
	}
	workerAxis := matrix.Axis{Name: WorkerAxis}
	var owned []matrix.Axis // the workers' own axes, values merged
	var out []workerCell
	seen := map[string]bool{}
	for _, w := range workers {
		if w == nil {
			return nil, nil, errors.New("a nil worker was given")
		}
		if seen[w.Name()] {
			return nil, nil, fmt.Errorf("two workers are named %q", w.Name())
		}
		seen[w.Name()] = true
		workerAxis.Values = append(workerAxis.Values, matrix.Value{Name: w.Name(), V: w.Name()})
		own := []matrix.Axis{matrix.Strings(WorkerAxis, w.Name())}
		v, versioned := w.(sandbox.Versioned)
		if versioned {
			for _, a := range v.Axes() {
				if runAxes[a.Name] {
					return nil, nil, fmt.Errorf("axis %q is an axis of worker %s (its daemon's versions) and of this Run: rename the Run's", a.Name, w.Name())
				}
				if values, ok := cfg.workerAxes[a.Name]; ok {
					a = matrix.NewAxis(a.Name, values...)
				}
				own = append(own, a)
				owned = mergeAxis(owned, a)
			}
		}
		cells, err := matrix.Expand(append(own, cfg.axes...)...)
		if err != nil {
			return nil, nil, fmt.Errorf("worker %s: %w", w.Name(), err)
		}
		// One worker per combination of versions, shared by its cells.
		at := map[string]sandbox.Worker{}
		for _, c := range cells {
			wc := workerCell{cell: c, worker: w, key: c.Only(axisNames(own)...).Name()}
			if versioned {
				versions := c.Only(axisNames(own[1:])...)
				if at[versions.Name()] == nil {
					at[versions.Name()] = v.At(versions)
				}
				wc.worker = at[versions.Name()]
			}
			out = append(out, wc)
		}
	}
	return out, append(append([]matrix.Axis{workerAxis}, owned...), cfg.axes...), nil
}

// mergeAxis adds a's values to the axis of its name in axes, or a itself.
func mergeAxis(axes []matrix.Axis, a matrix.Axis) []matrix.Axis {
	i := axisIndex(axes, a.Name)
	if i < 0 {
		return append(axes, matrix.NewAxis(a.Name, a.Values...))
	}
	for _, v := range a.Values {
		if !slices.ContainsFunc(axes[i].Values, func(x matrix.Value) bool { return x.Name == v.Name }) {
			axes[i].Values = append(axes[i].Values, v)
		}
	}
	return axes
}

func axisNames(axes []matrix.Axis) []string {
	names := make([]string, len(axes))
	for i, a := range axes {
		names[i] = a.Name
	}
	return names
}
