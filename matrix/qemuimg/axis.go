package qemuimg

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/matrixbox/matrixbox/matrix"
)

// EnvPaths names extra qemu-img executables for Discover, separated by ':'
// (e.g. wrappers that run another distribution's qemu-img in a chroot).
const EnvPaths = "MATRIXBOX_QEMU_IMG"

// Binary is a qemu-img executable on this machine and the version it
// reports; it is the value of the qemu-img axis.
type Binary struct {
	Path    string
	Version Version
}

// Axis returns the qemu-img axis with one value per executable path, named
// by the version it reports ("7.2", or "7.2.22" when two share major.minor),
// ordered by version. A path that does not run or whose version does not
// parse is an error naming it.
func Axis(paths ...string) (matrix.Axis, error) {
	if len(paths) == 0 {
		return matrix.Axis{}, fmt.Errorf("qemu-img axis: no executables given (Discover finds them)")
	}
	var bins []Binary
	for _, p := range paths {
		b, err := Probe(p)
		if err != nil {
			return matrix.Axis{}, fmt.Errorf("qemu-img axis: %w", err)
		}
		bins = append(bins, b)
	}
	return axisOf(bins)
}

// Discover returns the paths Axis should use: qemu-img on PATH, if any,
// then each entry of $MATRIXBOX_QEMU_IMG. It returns none when neither has
// one; the caller decides whether that skips.
func Discover() []string {
	var paths []string
	if p, err := exec.LookPath("qemu-img"); err == nil {
		paths = append(paths, p)
	}
	for _, p := range filepath.SplitList(os.Getenv(EnvPaths)) {
		if p = strings.TrimSpace(p); p != "" {
			paths = append(paths, p)
		}
	}
	return paths
}

// Probe runs `path --version` on this machine.
func Probe(path string) (Binary, error) {
	q, err := open(hostRunner{}, path)
	if err != nil {
		return Binary{}, err
	}
	return Binary{Path: path, Version: q.Version()}, nil
}

func axisOf(bins []Binary) (matrix.Axis, error) {
	sorted := append([]Binary(nil), bins...)
	// Stable insertion sort by version keeps equal versions in input order.
	for i := 1; i < len(sorted); i++ {
		for j := i; j > 0 && sorted[j].Version.Compare(sorted[j-1].Version) < 0; j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	minors := map[string]int{}
	for _, b := range sorted {
		minors[short(b.Version)]++
	}
	a := matrix.Axis{Name: AxisName}
	seen := map[string]string{}
	for _, b := range sorted {
		name := short(b.Version)
		if minors[name] > 1 {
			name = b.Version.String()
		}
		if prev, ok := seen[name]; ok {
			return matrix.Axis{}, fmt.Errorf("qemu-img axis: %s and %s are both qemu-img %s", prev, b.Path, name)
		}
		seen[name] = b.Path
		a.Values = append(a.Values, matrix.Value{Name: name, V: b})
	}
	return a, a.Validate()
}

func short(v Version) string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// hostRunner runs commands on this machine, for Probe.
type hostRunner struct{}

func (hostRunner) Value(string) any { return nil }
func (hostRunner) Cmd(args ...string) *exec.Cmd {
	return exec.CommandContext(context.Background(), args[0], args[1:]...)
}
