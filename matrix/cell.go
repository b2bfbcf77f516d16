package matrix

import (
	"fmt"
	"slices"
	"strings"
)

// Cell is one combination of axis values. The zero Cell has no axes and the
// empty name.
type Cell struct {
	axes   []string
	values []Value
}

// Name returns "axis=value/axis2=value2" in axis declaration order.
func (c Cell) Name() string {
	var b strings.Builder
	for i, a := range c.axes {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(a)
		b.WriteByte('=')
		b.WriteString(c.values[i].Name)
	}
	return b.String()
}

// Value returns the value of axis, or nil when the cell has no such axis.
func (c Cell) Value(axis string) any {
	v, _ := c.Lookup(axis)
	return v.V
}

// Lookup returns the Value chosen for axis.
func (c Cell) Lookup(axis string) (Value, bool) {
	for i, a := range c.axes {
		if a == axis {
			return c.values[i], true
		}
	}
	return Value{}, false
}

// Axes returns the axis names of the cell in declaration order.
func (c Cell) Axes() []string { return append([]string(nil), c.axes...) }

// Without returns the cell with axis removed; names keep their order.
func (c Cell) Without(axis string) Cell {
	var out Cell
	for i, a := range c.axes {
		if a != axis {
			out.axes = append(out.axes, a)
			out.values = append(out.values, c.values[i])
		}
	}
	return out
}

// Expand returns the cartesian product of axes. The first axis varies
// slowest, so Expand(worker, color) yields every color of the first worker
// before the second worker. With no axes it returns one empty cell.
func Expand(axes ...Axis) ([]Cell, error) {
	seen := make(map[string]bool, len(axes))
	for _, a := range axes {
		if err := a.Validate(); err != nil {
			return nil, err
		}
		if seen[a.Name] {
			return nil, fmt.Errorf("axis %q is declared twice", a.Name)
		}
		seen[a.Name] = true
	}
	cells := []Cell{{}}
	for _, a := range axes {
		next := make([]Cell, 0, len(cells)*len(a.Values))
		for _, c := range cells {
			for _, v := range a.Values {
				next = append(next, Cell{
					axes:   append(append([]string(nil), c.axes...), a.Name),
					values: append(append([]Value(nil), c.values...), v),
				})
			}
		}
		cells = next
	}
	return cells, nil
}

// Only returns the cell with only the axes named, in the cell's order.
func (c Cell) Only(axes ...string) Cell {
	var out Cell
	for i, a := range c.axes {
		if slices.Contains(axes, a) {
			out.axes = append(out.axes, a)
			out.values = append(out.values, c.values[i])
		}
	}
	return out
}
