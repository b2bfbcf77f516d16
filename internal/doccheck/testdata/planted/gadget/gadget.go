// Package gadget is what package widget builds on.
package gadget

import "errors"

// Gear turns; [Gear.Turn] and [Gear.Teeth] resolve.
type Gear struct {
	Teeth int
}

// Turn turns the gear.
func (Gear) Turn() {}

// ErrStuck advises an option that does not exist.
var ErrStuck = errors.New("gadget: stuck: pass widget.WithOil")
