package qemuimg

import (
	"bytes"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/matrix/distro"
	qi "github.com/matrixbox/matrixbox/matrix/qemuimg"
	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

var update = flag.Bool("update", false, "record the outputs of each qemu-img met under testdata/<version>/")

// baselines is where this example keeps what each qemu-img printed.
const baselines = "testdata"

// compared are the outputs held against the baselines: info and map JSON
// of every image Record makes (raw, qcow2, qcow2-compressed, qcow2-overlay,
// vmdk, vhdx).
func compared() []string {
	var names []string
	for _, img := range qi.Images {
		names = append(names, img+".info.json", img+".map.json")
	}
	return names
}

func TestQemuImg(t *testing.T) {
	axis, err := distro.Axis(distros...)
	if err != nil {
		t.Fatal(err)
	}
	integration.Run(t, integration.TestFuncs(testProfile),
		integration.WithWorkers(workers.Containerd()),
		integration.WithMirror(mirror.Shared()),
		integration.WithAxes(axis))
}

// testProfile makes the images with the cell's qemu-img and checks what it
// prints about them.
func testProfile(t *testing.T, sb sandbox.Sandbox) {
	d := cellDistro(t, sb)
	q, err := qi.From(sb)
	if err != nil {
		t.Fatalf("qemu-img in %s: %v", d, err)
	}
	v := q.Version()
	t.Logf("%s ships qemu-img %s", d, v.Long())
	if got := fmt.Sprintf("%d.%d", v.Major, v.Minor); got != d.QemuImg {
		t.Errorf("%s runs qemu-img %s; the catalog says %s", d.ID, v, d.QemuImg)
	}
	// Record runs qemu-img in the sandbox's directory, which the container
	// sees at the same path.
	live, err := qi.Record(q)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := qi.WriteBaseline(baselines, v, live); err != nil {
			t.Fatal(err)
		}
		t.Logf("recorded %d outputs under %s", len(live), filepath.Join(baselines, v.String()))
	}
	recorded, err := qi.Baselines(baselines)
	if err != nil {
		t.Fatal(err)
	}
	// The reports of every comparison, so that a known divergence that
	// none of them needed is reported as stale at the end.
	var reports []qi.Report
	t.Run("own-profile", func(t *testing.T) { reports = append(reports, checkOwnProfile(t, recorded, v, live)...) })
	t.Run("other-profiles", func(t *testing.T) { reports = append(reports, checkOtherProfiles(t, recorded, v, live)...) })
	if err := qi.DefaultPolicy().Stale(reports...); err != nil {
		t.Error(err)
	}
	t.Run("gates", func(t *testing.T) { checkGates(t, d, v, live) })
	t.Run("wrong-baseline", func(t *testing.T) { checkWrongBaseline(t, recorded, v, live) })
}

// checkOwnProfile compares live output with the baseline SelectBaseline
// picks for v: the same version, or the nearest below it.
func checkOwnProfile(t *testing.T, recorded []qi.Version, v qi.Version, live map[string][]byte) (reports []qi.Report) {
	base, err := qi.SelectBaseline(recorded, v)
	if err != nil {
		t.Fatalf("%v: record it with go test ./examples/qemuimg -update", err)
	}
	if base.Compare(v) != 0 {
		t.Logf("no baseline of qemu-img %s: comparing with %s", v, base)
	}
	for _, name := range compared() {
		b, err := qi.LoadBaseline(baselines, base, name)
		if err != nil {
			t.Fatal(err)
		}
		reports = append(reports, qi.Check(t, qi.DefaultPolicy(), name, base, b, v, live[name]))
	}
	return reports
}

// checkOtherProfiles is the differential run of seed 001: the live output
// of this qemu-img against the baselines of the other versions, under the
// policy (gated fields skipped, known divergences accepted with a reason).
func checkOtherProfiles(t *testing.T, recorded []qi.Version, v qi.Version, live map[string][]byte) (reports []qi.Report) {
	others := 0
	for _, base := range recorded {
		if base.SameMinor(v) {
			continue
		}
		others++
		for _, name := range compared() {
			b, err := qi.LoadBaseline(baselines, base, name)
			if err != nil {
				t.Fatal(err)
			}
			reports = append(reports, qi.Check(t, qi.DefaultPolicy(), name, base, b, v, live[name]))
		}
	}
	if others == 0 {
		t.Skipf("no baseline of another qemu-img than %s under %s", v, baselines)
	}
	return reports
}

// gateTruth is what the qemu-img of each Debian release was seen to print.
var gateTruth = map[string]map[string]bool{
	"info.children":   {"5.2": false, "7.2": false, "10.0": true},
	"map.present":     {"5.2": false, "7.2": true, "10.0": true},
	"map.compressed":  {"5.2": false, "7.2": false, "10.0": true},
	"info.dirty-flag": {"5.2": true, "7.2": true, "10.0": true},
}

// checkGates asserts each gate against what this version really printed,
// for every image, and that the gate's declared version agrees.
func checkGates(t *testing.T, d distro.Distro, v qi.Version, live map[string][]byte) {
	for name, byVersion := range gateTruth {
		want, ok := byVersion[d.QemuImg]
		if !ok {
			t.Fatalf("no expectation for gate %s on qemu-img %s", name, d.QemuImg)
		}
		g, ok := qi.GateNamed(name)
		if !ok {
			t.Fatalf("matrix/qemuimg has no gate %s", name)
		}
		if g.Has(v) != want {
			t.Errorf("gate %s (since %s) says qemu-img %s prints it: %v; %s was seen to: %v", name, g.Since, v, g.Has(v), d.ID, want)
		}
		for _, img := range qi.Images {
			out := img + "." + g.Command + ".json"
			doc, err := qi.Parse(out, live[out])
			if err != nil {
				t.Fatal(err)
			}
			if seen := g.Seen(doc); seen != want {
				t.Errorf("%s: qemu-img %s prints %v: %v, want %v", out, v, g.Fields, seen, want)
			}
		}
	}
}

// checkWrongBaseline proves the comparison can fail: a baseline whose
// virtual size was doubled must give a diff naming the field and both
// versions.
func checkWrongBaseline(t *testing.T, recorded []qi.Version, v qi.Version, live map[string][]byte) {
	base, err := qi.SelectBaseline(recorded, v)
	if err != nil {
		t.Skip(err)
	}
	const name = "qcow2.info.json"
	b, err := qi.LoadBaseline(baselines, base, name)
	if err != nil {
		t.Fatal(err)
	}
	wrong := bytes.Replace(b, []byte(`"virtual-size": 4194304`), []byte(`"virtual-size": 8388608`), 1)
	if bytes.Equal(wrong, b) {
		t.Fatalf("baseline %s/%s has no virtual-size of 4 MiB to alter", base, name)
	}
	r, err := qi.DefaultPolicy().Compare(name, base, wrong, v, live[name])
	if err != nil {
		t.Fatal(err)
	}
	msg := fmt.Sprint(r.Err())
	if r.OK() || !strings.Contains(msg, "virtual-size") || !strings.Contains(msg, base.String()) || !strings.Contains(msg, v.String()) {
		t.Fatalf("altered baseline passed or gave an unreadable diff: %s", msg)
	}
	t.Logf("altered baseline fails as it must:\n%s", msg)
}
