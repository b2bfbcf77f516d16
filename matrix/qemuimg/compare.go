package qemuimg

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/matrixbox/matrixbox/internal/suggest"
)

// Policy decides how the output of one qemu-img version is compared with a
// baseline recorded by another. Field patterns are globs matched against one
// segment of a leaf's path ("actual-size" matches "actual-size" and
// "children[0].info.actual-size"). Every field the policy does not name is
// portable and compared exactly.
type Policy struct {
	// Gates are the version-dependent fields: when one side's version
	// predates a gate, its fields are skipped on both sides, with a
	// message naming both versions.
	Gates []Gate
	// Paths hold file names; they are compared by base name.
	Paths []string
	// Sizes hold byte counts that depend on the file system and allocator;
	// they must agree within SizeTolerance (relative) or SizeSlack bytes,
	// whichever is larger.
	Sizes         []string
	SizeTolerance float64
	SizeSlack     int64
	// Volatile fields change from run to run (a VMDK's random CID, a
	// snapshot's date); they must be present on both sides, their values
	// are not compared.
	Volatile []string
	// Divergences are the known, explained differences.
	Divergences []Divergence
}

// Divergence is a known difference between versions: a field that may
// differ when either version compared lies in one of the ranges.
type Divergence struct {
	// Field is a segment glob, as in Policy.
	Field string
	// Command limits the entry to "info", "map" or "snapshot"; "" is any.
	Command string
	// Versions are where the divergence applies; at least one is required.
	Versions []Range
	// Reason says why the difference is expected; it is required.
	Reason string
}

// Range is the versions v with From <= v < Below; a zero bound is open.
type Range struct {
	From, Below Version
}

// Contains reports whether v lies in r.
func (r Range) Contains(v Version) bool {
	return (r.From.IsZero() || v.AtLeast(r.From)) && (r.Below.IsZero() || !v.AtLeast(r.Below))
}

func (r Range) String() string {
	switch {
	case r.From.IsZero() && r.Below.IsZero():
		return "any version"
	case r.From.IsZero():
		return "before " + r.Below.String()
	case r.Below.IsZero():
		return r.From.String() + " and later"
	}
	return r.From.String() + " to before " + r.Below.String()
}

// DefaultPolicy is the policy that the recorded outputs of 5.2.0, 7.2.22
// and 10.0.13 pass against each other.
func DefaultPolicy() Policy {
	return Policy{
		Gates: Gates,
		// JSON file names, and their human forms; map text's "file" column.
		Paths:         []string{"filename", "backing-filename", "full-backing-filename", "image", "backing file", "file"},
		Sizes:         []string{"actual-size", "disk size"},
		SizeTolerance: 0.25,
		SizeSlack:     256 << 10,
		Volatile:      []string{"cid", "date"},
		Divergences: []Divergence{{
			Field: "vm-clock", Command: "snapshot",
			Versions: []Range{{From: MustVersion("8.0")}},
			Reason:   "`snapshot -l` prints the VM clock as 00:00:00.000 up to 7.2.22 and as 0000:00:00.000 in 10.0.13 (versions between were not recorded)",
		}},
	}
}

// Validate reports divergence entries without a reason or versions.
func (p Policy) Validate() error {
	var errs []error
	for i, d := range p.Divergences {
		if strings.TrimSpace(d.Reason) == "" {
			errs = append(errs, fmt.Errorf("divergence %d (%s): no reason given", i, d.Field))
		}
		if len(d.Versions) == 0 {
			errs = append(errs, fmt.Errorf("divergence %d (%s): no versions given", i, d.Field))
		}
		if d.Field == "" {
			errs = append(errs, fmt.Errorf("divergence %d: no field given", i))
		}
	}
	return errors.Join(errs...)
}

// Report is the verdict on one output.
type Report struct {
	// Name is the output compared, e.g. "qcow2.info.json".
	Name           string
	Baseline, Live Version
	// Diffs are the differences nothing explains: the comparison fails.
	Diffs []Diff
	// Skipped say which version-gated fields were left out and why.
	Skipped []string
	// Known are the divergences the registry accepted, with its reason.
	Known []string
	// Failure is why no comparison could be made (a policy that does not
	// validate, an output that does not parse). Compare returns it as its
	// error too; it is kept here so that a caller who looks only at OK or
	// Err still sees a failure, never a pass.
	Failure error

	// command and fields are the command of the outputs and the fields
	// either side has, for Policy.Stale.
	command string
	fields  map[string]bool
}

// Diff is one unexplained difference; "<absent>" marks a missing field.
type Diff struct {
	Field, Baseline, Live string
}

const absent = "<absent>"

// OK reports whether the live output was compared and agrees with the
// baseline.
func (r Report) OK() bool { return r.Failure == nil && len(r.Diffs) == 0 }

// Err is nil when the outputs agree, else Failure or an error whose text is
// a diff naming both versions.
func (r Report) Err() error {
	if r.Failure != nil {
		return r.Failure
	}
	if r.OK() {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: qemu-img %s differs from the baseline recorded by qemu-img %s in %d field(s) no divergence explains:",
		r.Name, r.Live.Long(), r.Baseline.Long(), len(r.Diffs))
	const most = 20
	for i, d := range r.Diffs {
		if i == most {
			fmt.Fprintf(&b, "\n  ... and %d more", len(r.Diffs)-most)
			break
		}
		fmt.Fprintf(&b, "\n  %s:\n    - baseline %s: %s\n    + live     %s: %s", d.Field, r.Baseline, d.Baseline, r.Live, d.Live)
	}
	return errors.New(b.String())
}

// Compare parses both outputs (named as Record names them) and compares
// them under p. An invalid policy or a parse failure (an error naming the
// side and version) is returned both as the error and as the report's
// Failure, so the report never reads as a pass.
func (p Policy) Compare(name string, baseline Version, baselineOut []byte, live Version, liveOut []byte) (Report, error) {
	r := Report{Name: name, Baseline: baseline, Live: live}
	if r.Failure = p.validateFor(name); r.Failure != nil {
		return r, r.Failure
	}
	bd, err := Parse(name, baselineOut)
	if err != nil {
		r.Failure = fmt.Errorf("baseline qemu-img %s: %w", baseline, err)
		return r, r.Failure
	}
	ld, err := Parse(name, liveOut)
	if err != nil {
		r.Failure = fmt.Errorf("live qemu-img %s: %w", live, err)
		return r, r.Failure
	}
	r = p.CompareDocs(name, baseline, bd, live, ld)
	return r, r.Failure
}

func (p Policy) validateFor(name string) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("%s: policy: %w", name, err)
	}
	return nil
}

// CompareDocs compares parsed outputs. A policy that does not validate
// compares nothing: the report's Failure says why.
func (p Policy) CompareDocs(name string, baseline Version, bd Doc, live Version, ld Doc) Report {
	r := Report{Name: name, Baseline: baseline, Live: live}
	if r.Failure = p.validateFor(name); r.Failure != nil {
		return r
	}
	// Gates one side has and the other lacks.
	var skip []Gate
	for _, g := range p.Gates {
		if !g.Applies(bd) || g.Has(baseline) == g.Has(live) {
			continue
		}
		skip = append(skip, g)
		newer, older, role, orole := live, baseline, "live", "baseline"
		if g.Has(baseline) {
			newer, older, role, orole = baseline, live, "baseline", "live"
		}
		r.Skipped = append(r.Skipped, fmt.Sprintf("%s: skipped %s because %s qemu-img %s prints it (since %s) and %s qemu-img %s predates it",
			name, strings.Join(g.Fields, ", "), role, newer, g.Since, orole, older))
	}
	r.command, r.fields = bd.Command, map[string]bool{}
	for _, d := range []Doc{bd, ld} {
		for _, l := range d.Leaves {
			for _, seg := range l.Path {
				if !strings.HasPrefix(seg, "[") {
					r.fields[plainSegment(seg)] = true
				}
			}
		}
	}
	bm, bkeys := p.index(bd, skip)
	lm, lkeys := p.index(ld, skip)
	keys := mergeKeys(bkeys, lkeys)
	knownSeen := map[string]bool{}
	for _, k := range keys {
		bl, bok := bm[k]
		ll, lok := lm[k]
		bv, lv := absent, absent
		var l Leaf
		if bok {
			bv, l = bl.Value, bl
		}
		if lok {
			lv, l = ll.Value, ll
		}
		if bok && lok && p.equal(l.Path, bv, lv) {
			continue
		}
		if d, ok := p.divergence(bd.Command, l.Path, baseline, live); ok {
			msg := fmt.Sprintf("%s: %s differs between qemu-img %s and %s, as known: %s", name, d.Field, baseline, live, d.Reason)
			if !knownSeen[msg] {
				knownSeen[msg] = true
				r.Known = append(r.Known, msg)
			}
			continue
		}
		r.Diffs = append(r.Diffs, Diff{Field: k, Baseline: bv, Live: lv})
	}
	return r
}

// index maps each leaf's key to it, leaving out the fields of skipped gates.
func (p Policy) index(d Doc, skip []Gate) (map[string]Leaf, []string) {
	m := map[string]Leaf{}
	var keys []string
	for _, l := range d.Leaves {
		if anySegment(l.Path, gateFields(skip)) {
			continue
		}
		k := l.Key()
		m[k] = l
		keys = append(keys, k)
	}
	return m, keys
}

func gateFields(gs []Gate) []string {
	var f []string
	for _, g := range gs {
		f = append(f, g.Fields...)
		f = append(f, g.Replaces...)
	}
	return f
}

func (p Policy) equal(path []string, a, b string) bool {
	if a == b {
		return true
	}
	switch {
	case anySegment(path, p.Volatile):
		return true
	case anySegment(path, p.Paths):
		return normPath(a) == normPath(b)
	case anySegment(path, p.Sizes):
		x, okx := parseSize(a)
		y, oky := parseSize(b)
		if !okx || !oky {
			return false
		}
		diff := math.Abs(x - y)
		return diff <= float64(p.SizeSlack) || diff <= p.SizeTolerance*math.Max(x, y)
	}
	return false
}

func (p Policy) divergence(command string, path []string, baseline, live Version) (Divergence, bool) {
	for _, d := range p.Divergences {
		if d.Command != "" && d.Command != command {
			continue
		}
		if !anySegment(path, []string{d.Field}) {
			continue
		}
		for _, r := range d.Versions {
			if r.Contains(baseline) || r.Contains(live) {
				return d, true
			}
		}
	}
	return Divergence{}, false
}

// anySegment reports whether a segment of path matches one of globs; a
// segment "children#2" (a repeated text key) matches as "children".
func anySegment(path []string, globs []string) bool {
	for _, seg := range path {
		seg = plainSegment(seg)
		for _, g := range globs {
			if segmentMatch(g, seg) {
				return true
			}
		}
	}
	return false
}

// plainSegment is seg without the "#2" of a repeated text key.
func plainSegment(seg string) string {
	if i := strings.LastIndexByte(seg, '#'); i > 0 {
		if _, err := strconv.Atoi(seg[i+1:]); err == nil {
			return seg[:i]
		}
	}
	return seg
}

// Stale reports each known divergence of p whose field none of the
// outputs compared in reports has: an entry that explains nothing any
// more, or never did (a misspelt field, with a "did you mean" when a field
// is near), which Validate cannot see and which would otherwise stay in
// the registry for ever. Call it when a suite's comparisons are done, with
// their reports. An entry of a command none of the reports compared is
// not judged.
func (p Policy) Stale(reports ...Report) error {
	var errs []error
	for i, d := range p.Divergences {
		seen := map[string]bool{}
		compared, matched := 0, false
		for _, r := range reports {
			if r.fields == nil || d.Command != "" && r.command != d.Command {
				continue
			}
			compared++
			for f := range r.fields {
				seen[f] = true
				matched = matched || segmentMatch(d.Field, f)
			}
		}
		if compared == 0 || matched {
			continue
		}
		what := "outputs"
		if d.Command != "" {
			what = d.Command + " outputs"
		}
		msg := fmt.Sprintf("divergence %d (%s): stale: none of the %s of %d comparison(s) has a field %q, so it explains nothing", i, d.Field, what, compared, d.Field)
		if near, ok := suggest.Nearest(d.Field, slices.Sorted(maps.Keys(seen))); ok {
			msg += fmt.Sprintf("; did you mean %s?", near)
		}
		errs = append(errs, errors.New(msg))
	}
	return errors.Join(errs...)
}

// mergeKeys keeps the baseline's order and appends keys only live has.
func mergeKeys(a, b []string) []string {
	seen := make(map[string]bool, len(a))
	out := append([]string(nil), a...)
	for _, k := range a {
		seen[k] = true
	}
	for _, k := range b {
		if !seen[k] {
			out = append(out, k)
		}
	}
	return out
}

// normPath replaces every token holding a '/' by its base name, so that
// "/tmp/x/disk.qcow2" and "disk.qcow2" agree, in JSON strings and text.
func normPath(s string) string {
	s = strings.Trim(s, `"`)
	f := strings.Fields(s)
	for i, t := range f {
		if strings.Contains(t, "/") {
			trail := strings.TrimLeft(t, "(")
			f[i] = t[:len(t)-len(trail)] + path.Base(strings.TrimRight(trail, ")")) + t[len(strings.TrimRight(t, ")")):]
		}
	}
	return strings.Join(f, " ")
}

var sizeRe = regexp.MustCompile(`^([0-9.]+)\s*(B|KiB|MiB|GiB|TiB|PiB|EiB)?(?:\s*\((\d+) bytes\))?$`)

// parseSize reads 331776, "388 KiB", "1.34 MiB" or "4 MiB (4194304 bytes)".
func parseSize(s string) (float64, bool) {
	m := sizeRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, false
	}
	if m[3] != "" {
		n, err := strconv.ParseFloat(m[3], 64)
		return n, err == nil
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	scale := map[string]float64{"": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40, "PiB": 1 << 50, "EiB": 1 << 60}
	return n * scale[m[2]], true
}
