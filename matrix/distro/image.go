package distro

import (
	"fmt"
	"strings"

	"github.com/matrixbox/matrixbox/matrix"
)

// ImageRef is the image the cells of d run their commands in: the
// containerd worker uses the reference of any axis value that has this
// method.
func (d Distro) ImageRef() string { return d.Image }

// debianRecipes are the Debian versions the mirror can build offline.
var debianRecipes = map[string]bool{"11": true, "12": true, "13": true}

// Recipe is the mirror source that builds d's image offline with packages
// preinstalled ("recipe:debian:12?packages=qemu-utils"), or "" when d can
// only come from a registry. Every test process that mirrors d.ImageRef()
// must ask for the same source (the same packages), or the mirror replaces
// the image each time a different one is asked for.
func (d Distro) Recipe(packages ...string) string {
	if d.Name != "Debian" || !debianRecipes[d.Version] {
		return ""
	}
	s := "recipe:debian:" + d.Version
	if len(packages) > 0 {
		s += "?packages=" + strings.Join(packages, ",")
	}
	return s
}

// Source is where a mirror takes d's image from: Recipe(packages...) when
// d can be built offline, else the image reference itself (pulled from its
// registry).
func (d Distro) Source(packages ...string) string {
	if r := d.Recipe(packages...); r != "" {
		return r
	}
	return d.Image
}

// DecodeValue turns a catalog id read from a config file into the axis
// value Axis would make for it:
//
//	integration.Main(m, integration.WithAxisDecoder(distro.AxisName, distro.DecodeValue))
func DecodeValue(s string) (matrix.Value, error) {
	d, err := Lookup(strings.TrimSpace(s))
	if err != nil {
		return matrix.Value{}, fmt.Errorf("%s axis value: %w", AxisName, err)
	}
	return matrix.Value{Name: d.ID, V: d}, nil
}
