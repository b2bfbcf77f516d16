// Package qemuimg is the typed qemu-img axis, and the policy for comparing
// what different qemu-img versions print.
//
// [ParseVersion] reads `qemu-img --version` output, distribution suffixes
// included ("7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)", "8.2.0
// (qemu-kvm-8.2.0-11.el9_4.3)"); anything else is an error, never a zero
// version. [Axis] builds the "qemu-img" axis from executables ([Discover]
// finds the one on PATH and those listed in $MATRIXBOX_QEMU_IMG), and [From]
// returns the cell's qemu-img, run through the sandbox's commands.
//
// [Gates] name the output features only some versions print ("children" in
// info JSON, "present" and "compressed" in map JSON, ...), each with the
// version it appeared in, checked against real output of qemu-img 5.2.0,
// 7.2.22 and 10.0.13 recorded under testdata/. A [Policy] compares live
// output with a baseline recorded by another version: portable fields
// exactly, paths by base name, sizes within a tolerance, gated fields
// skipped with a message naming both versions, and known divergences
// accepted only with a reason and the versions they apply to. Anything else
// fails with a diff that names both versions. Once a suite's comparisons
// are done, [Policy.Stale] reports each divergence whose field none of
// them had: a stale or misspelt entry. [SelectBaseline] picks the
// recorded version to compare with, and [Record] (or testdata/record.sh)
// records new baselines.
package qemuimg
