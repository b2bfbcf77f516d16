package integration

import (
	"errors"
	"fmt"
	"strings"

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
}

// plan is what a Run will do, computed without starting anything.
type plan struct {
	cases    []caseSpec
	total    int // cases before selection and sharding
	selected int // cases after selection, before sharding
	dropped  []string
	axes     []matrix.Axis // the worker axis, then the Run's
}

// makePlan expands tests × workers × axes, in declaration order, and keeps
// the cases that pass exclusions, the selection and this process's shard.
// parent is the full name of the test that called Run.
func makePlan(parent string, tests []Test, workers []sandbox.Worker, cfg *config, st settings) (*plan, error) {
	if len(tests) == 0 {
		return nil, errors.New("no tests given")
	}
	if len(workers) == 0 {
		workers = []sandbox.Worker{sandbox.HostWorker()}
	}
	byName := map[string]sandbox.Worker{}
	workerAxis := matrix.Axis{Name: WorkerAxis}
	for _, w := range workers {
		if w == nil {
			return nil, errors.New("a nil worker was given")
		}
		if _, dup := byName[w.Name()]; dup {
			return nil, fmt.Errorf("two workers are named %q", w.Name())
		}
		byName[w.Name()] = w
		workerAxis.Values = append(workerAxis.Values, matrix.Value{Name: w.Name(), V: w.Name()})
	}
	for _, a := range cfg.axes {
		if a.Name == WorkerAxis {
			return nil, fmt.Errorf("axis %q is reserved for the workers; use WithWorkers", WorkerAxis)
		}
	}
	axes := append([]matrix.Axis{workerAxis}, cfg.axes...)
	cells, err := matrix.Expand(axes...)
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
	declared := map[string]bool{WorkerAxis: true}
	for _, a := range cfg.axes {
		declared[a.Name] = true
	}
	p := &plan{axes: axes}
	for _, ax := range st.selector.Axes() {
		if !declared[ax] {
			p.dropped = append(p.dropped, fmt.Sprintf("%s names axis %q, which this Run does not have: no cell matches", EnvSelect, ax))
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
		for _, c := range cells {
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
				worker: byName[c.Value(WorkerAxis).(string)]})
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
