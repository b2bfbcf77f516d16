// Package widget plants one dangling reference of each kind beside one that
// resolves. Its guide is docs/widget.md; its gadget is gadget/gadget.go.
//
// It writes to a [strings.Builder] (imported) and a [bytes.Buffer] (not
// imported: go doc still knows bytes), and to [bytes.Buffer.Flush].
package widget

import (
	"strings"

	"example.com/planted/gadget"
)

// Widget is made by [New] and [Make]; [Widget.Name] and [Widget.Color]
// are its methods, [gadget.Gear.Turn] its gadget's, and [gadget.Spring]
// another. Mentions in prose: gadget.Gear, gadget.Gear.Turn, gadget.Lever
// and gadget.Gear.Spin.
type Widget struct {
	// Label is what [strings.Title] shows; [strings.Titles] is not a thing.
	Label string
	gear  gadget.Gear
	b     strings.Builder
}

// New returns a widget. [sprocket.Chain] names a package nobody imports;
// [example.com/planted/gadget.Gear] resolves by its path, and neither
// [example.com/planted/gizmo.Part] nor [encoding/jsonx.Decoder] does.
func New() *Widget { return &Widget{} }

// Name is the label.
func (w *Widget) Name() string {
	// A plain comment that mentions widget.Resize, which does not exist.
	return w.Label
}
