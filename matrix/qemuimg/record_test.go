package qemuimg

import (
	"os"
	"os/exec"
	"testing"
)

// dirRunner runs commands on this machine in dir: the host worker's way.
type dirRunner struct{ dir string }

func (dirRunner) Value(string) any { return nil }
func (r dirRunner) Cmd(args ...string) *exec.Cmd {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = r.dir
	return cmd
}

// TestRecordBaselines (re)records testdata/<version>/ for every qemu-img
// Discover finds when MATRIXBOX_QEMUIMG_RECORD names the output directory:
//
//	MATRIXBOX_QEMUIMG_RECORD=$PWD/testdata go test -run TestRecordBaselines ./matrix/qemuimg
//
// testdata/record.sh adds the qemu-img of Debian chroots through
// MATRIXBOX_QEMU_IMG.
func TestRecordBaselines(t *testing.T) {
	out := os.Getenv("MATRIXBOX_QEMUIMG_RECORD")
	if out == "" {
		t.Skip("set MATRIXBOX_QEMUIMG_RECORD=<dir> to record baselines")
	}
	paths := Discover()
	if len(paths) == 0 {
		t.Skip("no qemu-img on PATH or in $" + EnvPaths + ": apt-get install qemu-utils")
	}
	for _, p := range paths {
		q, err := open(dirRunner{t.TempDir()}, p)
		if err != nil {
			t.Fatal(err)
		}
		outputs, err := Record(q)
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteBaseline(out, q.Version(), outputs); err != nil {
			t.Fatal(err)
		}
		t.Logf("recorded qemu-img %s (%s): %d outputs", q.Version().Long(), p, len(outputs))
	}
}
