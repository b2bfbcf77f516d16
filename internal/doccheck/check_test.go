package doccheck

import (
	"strings"
	"testing"
)

// TestTree is the check on this repository: every reference of its docs
// resolves.
func TestTree(t *testing.T) {
	findings, err := Check("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		t.Error(f)
	}
}

// TestPlanted checks a fixture module that plants one dangling reference of
// each kind beside references of the same kinds that resolve: each dangling
// one is found, with its file, line and why, and nothing else is.
func TestPlanted(t *testing.T) {
	findings, err := Check("testdata/planted")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		// Mentions in Markdown prose, in a Go block, not when struck through.
		"README.md:3: widget.Build: package widget (example.com/planted/widget) has no Build",
		// Links, anchors and paths in code spans.
		"README.md:4: [the guide](docs/guide.md): no such file or directory docs/guide.md",
		"README.md:5: [nowhere](#nowhere): README.md has no heading with anchor #nowhere",
		"README.md:6: examples/ci/: no such file or directory in the repository root",
		"README.md:7: scripts/install.sh: no such file or directory in the repository root",
		"README.md:18: widget.Destroy: package widget (example.com/planted/widget) has no Destroy",
		"README.md:25: widget.Newer: package widget (example.com/planted/widget) has no Newer",
		// An option advised by an error message.
		"gadget/gadget.go:15: widget.WithOil: package widget (example.com/planted/widget) has no WithOil",
		// A path in a doc comment.
		"widget/widget.go:2: docs/widget.md: no such file or directory in widget/ or the repository root",
		// Doc links of every form.
		"widget/widget.go:5: [bytes.Buffer.Flush]: bytes.Buffer has no method or field Flush",
		"widget/widget.go:14: [Make]: package widget has no Make",
		"widget/widget.go:14: [Widget.Color]: widget.Widget has no method or field Color",
		"widget/widget.go:15: [gadget.Spring]: package gadget (example.com/planted/gadget) has no Spring",
		// Mentions in a doc comment.
		"widget/widget.go:16: gadget.Lever: package gadget (example.com/planted/gadget) has no Lever",
		"widget/widget.go:17: gadget.Gear.Spin: gadget.Gear has no method or field Spin",
		"widget/widget.go:19: [strings.Titles]: package strings has no Titles",
		"widget/widget.go:25: [sprocket.Chain]: no import of package widget names sprocket, so go doc shows it as plain text",
		"widget/widget.go:27: [example.com/planted/gizmo.Part]: the module has no package example.com/planted/gizmo",
		// The go command's own words follow.
		"widget/widget.go:27: [encoding/jsonx.Decoder]: cannot find package encoding/jsonx: ",
		// A mention in a comment that is not a doc comment.
		"widget/widget.go:32: widget.Resize: package widget (example.com/planted/widget) has no Resize",
	}
	got := make([]string, len(findings))
	for i, f := range findings {
		got[i] = f.String()
	}
	for i := 0; i < len(want) || i < len(got); i++ {
		switch {
		case i >= len(got):
			t.Errorf("missing: %s", want[i])
		case i >= len(want):
			t.Errorf("unexpected: %s", got[i])
		case got[i] != want[i] && !(strings.HasSuffix(want[i], ": ") && strings.HasPrefix(got[i], want[i])):
			t.Errorf("finding %d:\n got: %s\nwant: %s", i, got[i], want[i])
		}
	}
}

func TestSlug(t *testing.T) {
	for heading, want := range map[string]string{
		"CI shards":                         "ci-shards",
		"Configuration (matrixbox.yaml)":    "configuration-matrixboxyaml",
		"Report, plan and CI shards":        "report-plan-and-ci-shards",
		"What `integration` does [x](y.md)": "what-integration-does-x",
	} {
		if got := slug(heading); got != want {
			t.Errorf("slug(%q) = %q, want %q", heading, got, want)
		}
	}
}
