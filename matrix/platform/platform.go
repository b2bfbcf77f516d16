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

// knownOS are the operating systems a platform string may name.
var knownOS = map[string]bool{
	"aix": true, "android": true, "darwin": true, "dragonfly": true, "freebsd": true,
	"illumos": true, "ios": true, "js": true, "linux": true, "netbsd": true,
	"openbsd": true, "plan9": true, "solaris": true, "wasip1": true, "windows": true,
}

// knownVariants lists, per architecture, the variants it may carry; an
// architecture absent from the map is unknown, one mapped to nil takes none.
var knownVariants = map[string][]string{
	"386":      nil,
	"amd64":    {"v1", "v2", "v3", "v4"},
	"arm":      {"v5", "v6", "v7", "v8"},
	"arm64":    {"v8", "v8.0", "v8.1", "v8.2", "v8.3", "v8.4", "v8.5", "v8.6", "v8.7", "v8.8", "v8.9", "v9", "v9.0", "v9.1", "v9.2", "v9.3", "v9.4", "v9.5"},
	"loong64":  nil,
	"mips":     nil,
	"mipsle":   nil,
	"mips64":   nil,
	"mips64le": nil,
	"ppc64":    nil,
	"ppc64le":  nil,
	"riscv64":  {"rva20u64", "rva22u64", "rva23u64"},
	"s390x":    nil,
	"wasm":     nil,
}

// Parse reads "os/arch[/variant]" strictly: both parts are required, and the
// operating system, architecture and variant must be known ones. Aliases such
// as x86_64 and aarch64 are normalised to their OCI names.
func Parse(s string) (ocispec.Platform, error) {
	if strings.Count(s, "/") < 1 {
		return ocispec.Platform{}, fmt.Errorf("platform %q: want os/arch[/variant], e.g. linux/arm64", s)
	}
	if strings.ContainsAny(s, "() \t") {
		return ocispec.Platform{}, fmt.Errorf("platform %q: want os/arch[/variant] without OS version or spaces", s)
	}
	p, err := platforms.Parse(s)
	if err != nil {
		return ocispec.Platform{}, fmt.Errorf("platform %q: %w", s, err)
	}
	if !knownOS[p.OS] {
		return ocispec.Platform{}, fmt.Errorf("platform %q: unknown operating system %q", s, p.OS)
	}
	variants, ok := knownVariants[p.Architecture]
	if !ok {
		return ocispec.Platform{}, fmt.Errorf("platform %q: unknown architecture %q", s, p.Architecture)
	}
	if p.Variant != "" && !contains(variants, p.Variant) {
		if len(variants) == 0 {
			return ocispec.Platform{}, fmt.Errorf("platform %q: architecture %s has no variants, got %q", s, p.Architecture, p.Variant)
		}
		return ocispec.Platform{}, fmt.Errorf("platform %q: unknown variant %q of %s (known: %s)", s, p.Variant, p.Architecture, strings.Join(variants, ", "))
	}
	return p, nil
}

// Format returns "os/arch[/variant]".
func Format(p ocispec.Platform) string { return platforms.Format(p) }

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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// DecodeValue reads one platform string as a value of the axis, named as
// [Axis] names it. Register it so that a config file (matrixbox.yaml) can
// list platforms, a string that does not parse failing Run with the file,
// line and value:
//
//	integration.RegisterAxisDecoder(platform.AxisName, platform.DecodeValue)
func DecodeValue(s string) (matrix.Value, error) {
	p, err := Parse(s)
	if err != nil {
		return matrix.Value{}, err
	}
	return matrix.Value{Name: ValueName(p), V: p}, nil
}
