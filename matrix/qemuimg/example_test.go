package qemuimg_test

import (
	"fmt"

	"github.com/matrixbox/matrixbox/matrix/qemuimg"
)

func ExampleParseVersion() {
	v, err := qemuimg.ParseVersion("qemu-img version 8.2.0 (qemu-kvm-8.2.0-11.el9_4.3)\nCopyright (c) 2003-2023 Fabrice Bellard and the QEMU Project developers\n")
	fmt.Println(v, v.Package, err)
	for _, g := range qemuimg.Gates {
		fmt.Printf("%s since %s: %v\n", g.Name, g.Since, g.Has(v))
	}
	_, err = qemuimg.ParseVersion("qemu-img: command not found")
	fmt.Println(err)
	// Output:
	// 8.2.0 qemu-kvm-8.2.0-11.el9_4.3 <nil>
	// info.dirty-flag since 5.2.0: true
	// map.present since 6.1.0: true
	// info.children since 8.0.0: true
	// map.compressed since 8.2.0: true
	// snapshot.underscore-columns since 9.0.0: false
	// qemu-img --version: "qemu-img: command not found" is not "qemu-img version X.Y[.Z] [(package)]"
}

func ExamplePolicy_Compare() {
	recorded, _ := qemuimg.Baselines("testdata")
	live := qemuimg.MustVersion("10.0.13")
	base, _ := qemuimg.SelectBaseline(recorded[:2], live) // pretend 10.0 has no baseline yet
	baseOut, _ := qemuimg.LoadBaseline("testdata", base, "qcow2.info.json")
	liveOut, _ := qemuimg.LoadBaseline("testdata", live, "qcow2.info.json")

	r, err := qemuimg.DefaultPolicy().Compare("qcow2.info.json", base, baseOut, live, liveOut)
	fmt.Println(r.OK(), err)
	fmt.Println(r.Skipped[0])

	// A baseline of another image does not pass.
	wrong, _ := qemuimg.LoadBaseline("testdata", base, "raw.info.json")
	r, _ = qemuimg.DefaultPolicy().Compare("qcow2.info.json", base, wrong, live, liveOut)
	for _, d := range r.Diffs {
		if d.Field == "format" {
			fmt.Printf("%v: %s baseline %s, live %s\n", r.OK(), d.Field, d.Baseline, d.Live)
		}
	}
	// Output:
	// true <nil>
	// qcow2.info.json: skipped children, Child node * because live qemu-img 10.0.13 prints it (since 8.0.0) and baseline qemu-img 7.2.22 predates it
	// false: format baseline "raw", live "qcow2"
}
