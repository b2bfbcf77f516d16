package qemuimg

import "strings"

// Gate is a feature of qemu-img's output that only some versions print,
// named after what appears in the output, with the version it appeared in.
type Gate struct {
	// Name identifies the gate, e.g. "info.children".
	Name string
	// Command is the qemu-img command whose output carries the feature:
	// "info", "map" or "snapshot".
	Command string
	// Output is "json" or "human" when only that form shows the feature,
	// "" when both do.
	Output string
	// Fields are the keys the feature adds (globs matched against one path
	// segment, see Policy), in JSON or human output.
	Fields []string
	// Replaces are the keys older versions print instead, skipped with
	// Fields when one side predates the gate.
	Replaces []string
	// Since is the first version that prints it.
	Since Version
	// Evidence says where Since comes from and what real output showed.
	Evidence string
}

// Has reports whether qemu-img v prints the feature.
func (g Gate) Has(v Version) bool { return v.AtLeast(g.Since) }

// Gates are the output features known to depend on the qemu-img version.
// Each Since was checked against real output of qemu-img 5.2.0, 7.2.22 and
// 10.0.13 (testdata/); a claim from elsewhere that those outputs contradict
// was corrected.
var Gates = []Gate{
	{
		Name: "info.dirty-flag", Command: "info", Output: "json", Fields: []string{"dirty-flag"},
		Since:    MustVersion("5.2"),
		Evidence: "printed for every format by 5.2.0, 7.2.22 and 10.0.13; a claim of \"from 6.1\" is contradicted by 5.2.0, and versions before 5.2 were not seen, so 5.2 is the oldest proven",
	},
	{
		Name: "map.present", Command: "map", Output: "json", Fields: []string{"present"},
		Since:    MustVersion("6.1"),
		Evidence: "absent in 5.2.0 map JSON, present in 7.2.22 and 10.0.13; the claimed 6.1 fits both",
	},
	{
		Name: "info.children", Command: "info", Fields: []string{"children", "Child node *"},
		Since:    MustVersion("8.0"),
		Evidence: "absent in 7.2.22, present (JSON \"children\", human \"Child node '/file':\") in 10.0.13; the claimed 8.0 fits both",
	},
	{
		Name: "map.compressed", Command: "map", Output: "json", Fields: []string{"compressed"},
		Since:    MustVersion("8.2"),
		Evidence: "absent in 7.2.22, present in 10.0.13 map JSON; the claimed 8.2 fits both",
	},
	{
		Name: "snapshot.underscore-columns", Command: "snapshot", Output: "human",
		Fields: []string{"VM_SIZE", "VM_CLOCK"}, Replaces: []string{"VM SIZE", "VM CLOCK"},
		Since:    MustVersion("9.0"),
		Evidence: "7.2.22 heads `snapshot -l` with \"VM SIZE\" and \"VM CLOCK\", 10.0.13 with \"VM_SIZE\" and \"VM_CLOCK\"; the claimed 9.0 fits both",
	},
}

// GateNamed returns the gate called name.
func GateNamed(name string) (Gate, bool) {
	for _, g := range Gates {
		if g.Name == name {
			return g, true
		}
	}
	return Gate{}, false
}

// Applies reports whether doc is output the gate speaks about.
func (g Gate) Applies(doc Doc) bool {
	return g.Command == doc.Command && (g.Output == "" || g.Output == doc.Output)
}

// Seen reports whether the output of g.Command, parsed into doc, shows the
// feature. For `snapshot -l`, pass the raw text through ParseSnapshotList.
func (g Gate) Seen(doc Doc) bool {
	if !g.Applies(doc) {
		return false
	}
	for _, l := range doc.Leaves {
		for _, seg := range l.Path {
			for _, f := range g.Fields {
				if segmentMatch(f, seg) {
					return true
				}
			}
		}
	}
	return false
}

// segmentMatch matches one path segment against a glob in which '*' stands
// for any run of characters.
func segmentMatch(glob, seg string) bool {
	parts := strings.Split(glob, "*")
	if len(parts) == 1 {
		return glob == seg
	}
	if !strings.HasPrefix(seg, parts[0]) {
		return false
	}
	seg = seg[len(parts[0]):]
	for i, p := range parts[1:] {
		last := i == len(parts)-2
		if last {
			return strings.HasSuffix(seg, p)
		}
		j := strings.Index(seg, p)
		if j < 0 {
			return false
		}
		seg = seg[j+len(p):]
	}
	return true
}
