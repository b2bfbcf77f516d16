package distro

import (
	"fmt"

	"github.com/matrixbox/matrixbox/matrix"
)

// AxisName is the name of the distro axis.
const AxisName = "distro"

// Valuer is what From needs of a sandbox; sandbox.Sandbox satisfies it.
type Valuer interface {
	Value(axis string) any
}

// Axis returns the "distro" axis with one value per catalog id, in the
// order given; each value is a Distro. An unknown or repeated id is an
// error naming it.
func Axis(ids ...string) (matrix.Axis, error) {
	if len(ids) == 0 {
		return matrix.Axis{}, fmt.Errorf("distro axis: no distros given")
	}
	a := matrix.Axis{Name: AxisName}
	seen := map[string]bool{}
	for _, id := range ids {
		d, err := Lookup(id)
		if err != nil {
			return matrix.Axis{}, fmt.Errorf("distro axis: %w", err)
		}
		if seen[id] {
			return matrix.Axis{}, fmt.Errorf("distro axis: %q is given twice", id)
		}
		seen[id] = true
		a.Values = append(a.Values, matrix.Value{Name: d.ID, V: d})
	}
	return a, a.Validate()
}

// From returns the cell's distribution; the zero Distro when the cell has
// no distro axis. A string value is looked up in the catalog.
func From(sb Valuer) Distro {
	switch v := sb.Value(AxisName).(type) {
	case Distro:
		return v
	case *Distro:
		if v != nil {
			return *v
		}
	case string:
		d, _ := Lookup(v)
		return d
	}
	return Distro{}
}
