package platform

import (
	"fmt"
	"strings"

	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/matrixbox/matrixbox/matrix"
)

// AxisName is the name of the platform axis.
const AxisName = "platform"

// Platform is the OCI platform a value of the axis holds.
type Platform = ocispec.Platform

// Valuer is what From needs of a sandbox; sandbox.Sandbox satisfies it.
type Valuer interface {
	Value(axis string) any
}

// ValueName returns the platform's name on the axis: Format with '-' for '/',
// e.g. "linux-amd64-v3".
func ValueName(p ocispec.Platform) string {
	return strings.ReplaceAll(Format(p), "/", "-")
}

// Axis returns the "platform" axis with one value per platform string, in
// the order given. Each value is an ocispec.Platform. A string that does not
// parse, or two that name the same platform, is an error naming them.
func Axis(specs ...string) (matrix.Axis, error) {
	if len(specs) == 0 {
		return matrix.Axis{}, fmt.Errorf("platform axis: no platforms given")
	}
	a := matrix.Axis{Name: AxisName}
	seen := map[string]string{}
	for _, s := range specs {
		p, err := Parse(s)
		if err != nil {
			return matrix.Axis{}, fmt.Errorf("platform axis: %w", err)
		}
		name := ValueName(p)
		if prev, ok := seen[name]; ok {
			return matrix.Axis{}, fmt.Errorf("platform axis: %q and %q are the same platform %s", prev, s, Format(p))
		}
		seen[name] = s
		a.Values = append(a.Values, matrix.Value{Name: name, V: p})
	}
	if err := a.Validate(); err != nil {
		return matrix.Axis{}, fmt.Errorf("platform axis: %w", err)
	}
	return a, nil
}

// From returns the cell's platform. A cell without a platform axis runs on
// this machine, so From then returns the host's own platform; a value of
// another type gives the zero Platform.
func From(sb Valuer) ocispec.Platform {
	switch v := sb.Value(AxisName).(type) {
	case ocispec.Platform:
		return v
	case *ocispec.Platform:
		if v != nil {
			return *v
		}
	case string:
		// A plain string value (from a map axis) is parsed; one that does
		// not parse gives the zero Platform rather than silently the host's.
		p, _ := Parse(v)
		return p
	case nil:
		return platforms.DefaultSpec()
	}
	return ocispec.Platform{}
}

// DecodeValue reads one platform string as a value of the axis, named as
// [Axis] names it. Give it to integration.Main so that a config file (matrixbox.yaml) can
// list platforms, a string that does not parse failing Run with the file,
// line and value:
//
//	integration.Main(m, integration.WithAxisDecoder(platform.AxisName, platform.DecodeValue))
func DecodeValue(s string) (matrix.Value, error) {
	p, err := Parse(s)
	if err != nil {
		return matrix.Value{}, err
	}
	return matrix.Value{Name: ValueName(p), V: p}, nil
}
