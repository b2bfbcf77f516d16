package platform

import (
	"fmt"
	"regexp"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The one platform model of matrixbox: the platform axis and the image
// toolkit (ociimage) parse, normalise, compare and match platforms
// with these functions and tables alone.

// knownOS are Go's operating systems, plus "unknown", which BuildKit gives
// attestation manifests.
var knownOS = set("aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js",
	"linux", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows", "unknown")

// osAlias maps other spellings of an operating system to Go's.
var osAlias = map[string]string{"macos": "darwin"}

// knownArch are Go's architectures, plus "unknown" (attestations).
var knownArch = set("386", "amd64", "arm", "arm64", "loong64", "mips", "mipsle", "mips64",
	"mips64le", "ppc64", "ppc64le", "riscv64", "s390x", "wasm", "unknown")

// archAlias maps kernel (uname -m), Debian and other common names of an
// architecture to Go's, with the variant the name implies.
var archAlias = map[string][2]string{
	"x86_64": {"amd64", ""}, "x86-64": {"amd64", ""}, "x64": {"amd64", ""},
	"aarch64": {"arm64", ""}, "armv8": {"arm64", ""}, "armv8l": {"arm", "v8"},
	"armv7l": {"arm", "v7"}, "armv7": {"arm", "v7"}, "armhf": {"arm", "v7"},
	"armv6l": {"arm", "v6"}, "armv6": {"arm", "v6"}, "armel": {"arm", "v5"}, "armv5l": {"arm", "v5"},
	"i386": {"386", ""}, "i486": {"386", ""}, "i586": {"386", ""}, "i686": {"386", ""}, "x86": {"386", ""},
	"ppc64el": {"ppc64le", ""}, "riscv": {"riscv64", ""},
}

// arm64Variant are the arm64 variants after normalisation: v8.1 to v8.9,
// v9, v9.1 to v9.9.
var arm64Variant = regexp.MustCompile(`^v(8\.[1-9]|9|9\.[1-9])$`)

// riscv64Variants are the RISC-V profiles an image may name.
var riscv64Variants = set("rva20u64", "rva22u64", "rva23u64")

func set(xs ...string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// Parse reads "os/arch[/variant]" into its normal form (see [Normalize]):
// both the operating system and the architecture are required, and all
// three parts must be known ones. Case does not matter; an OS version,
// spaces or wildcards are errors. Every error names s.
func Parse(s string) (ocispec.Platform, error) {
	if strings.ContainsAny(s, "() \t*") {
		return ocispec.Platform{}, fmt.Errorf("platform %q: want os/arch[/variant] without OS version, spaces or wildcards", s)
	}
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return ocispec.Platform{}, fmt.Errorf("platform %q: want os/arch[/variant], e.g. linux/arm64", s)
	}
	p := ocispec.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		if parts[2] == "" {
			return ocispec.Platform{}, fmt.Errorf("platform %q: empty variant", s)
		}
		p.Variant = parts[2]
	}
	n, err := Normalize(p)
	if err != nil {
		return ocispec.Platform{}, fmt.Errorf("platform %q: %w", s, err)
	}
	return n, nil
}

// Normalize returns p's normal form: lower case; aliases resolved
// (x86_64→amd64, aarch64→arm64, armv7l→arm/v7, i686→386, macos→darwin);
// default variants dropped (amd64/v1→amd64, arm64/v8→arm64, arm64/9→v9),
// except arm's, v7, which is spelt out. An operating system, architecture
// or variant it does not know is an error; fields other than these three
// are kept as they are.
func Normalize(p ocispec.Platform) (ocispec.Platform, error) {
	p.OS, p.Architecture, p.Variant = strings.ToLower(p.OS), strings.ToLower(p.Architecture), strings.ToLower(p.Variant)
	if o, ok := osAlias[p.OS]; ok {
		p.OS = o
	}
	if !knownOS[p.OS] {
		return p, fmt.Errorf("unknown operating system %q", p.OS)
	}
	if a, ok := archAlias[p.Architecture]; ok {
		if p.Variant != "" && a[1] != "" && strings.TrimPrefix(p.Variant, "v") != strings.TrimPrefix(a[1], "v") {
			return p, fmt.Errorf("architecture %q implies variant %s, not %s", p.Architecture, a[1], p.Variant)
		}
		p.Architecture = a[0]
		if p.Variant == "" {
			p.Variant = a[1]
		}
	}
	if !knownArch[p.Architecture] {
		return p, fmt.Errorf("unknown architecture %q", p.Architecture)
	}
	v := p.Variant
	switch p.Architecture {
	case "amd64":
		switch v {
		case "", "v1", "1":
			p.Variant = ""
		case "v2", "v3", "v4", "2", "3", "4":
			p.Variant = "v" + strings.TrimPrefix(v, "v")
		default:
			return p, fmt.Errorf("unknown variant %q of amd64 (known: v1, v2, v3, v4)", v)
		}
	case "arm64":
		if v != "" && !strings.HasPrefix(v, "v") {
			v = "v" + v
		}
		switch {
		case v == "" || v == "v8" || v == "v8.0":
			p.Variant = ""
		case v == "v9.0":
			p.Variant = "v9"
		case arm64Variant.MatchString(v):
			p.Variant = v
		default:
			return p, fmt.Errorf("unknown variant %q of arm64 (known: v8, v8.1 to v8.9, v9, v9.1 to v9.9)", p.Variant)
		}
	case "arm":
		switch strings.TrimPrefix(v, "v") {
		case "":
			p.Variant = "v7"
		case "5", "6", "7", "8":
			p.Variant = "v" + strings.TrimPrefix(v, "v")
		default:
			return p, fmt.Errorf("unknown variant %q of arm (known: v5, v6, v7, v8)", v)
		}
	case "riscv64":
		if v != "" && !riscv64Variants[v] {
			return p, fmt.Errorf("unknown variant %q of riscv64 (known: rva20u64, rva22u64, rva23u64)", v)
		}
	default:
		if v != "" {
			return p, fmt.Errorf("architecture %s has no variants, got %q", p.Architecture, v)
		}
	}
	return p, nil
}

// Format returns "os/arch[/variant]" of p's normal form, or of its fields
// as they are when they do not normalise.
func Format(p ocispec.Platform) string {
	if n, err := Normalize(p); err == nil {
		p = n
	}
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// Same reports whether a and b are one platform once normalised (OS
// version and features are not compared). Platforms that do not
// normalise are the same as nothing.
func Same(a, b ocispec.Platform) bool {
	na, errA := Normalize(a)
	nb, errB := Normalize(b)
	return errA == nil && errB == nil &&
		na.OS == nb.OS && na.Architecture == nb.Architecture && na.Variant == nb.Variant
}

// Rank says how well an image for have serves a build for want, as
// BuildKit and containerd choose among an index's manifests: 0 not at all,
// higher is better. The same platform ranks highest; then an older variant
// of the same architecture, the nearest first (linux/amd64/v2, then
// linux/amd64, for linux/amd64/v3; arm/v6 for arm/v7). A newer variant
// never serves an older one.
func Rank(want, have ocispec.Platform) int {
	w, err1 := Normalize(want)
	h, err2 := Normalize(have)
	if err1 != nil || err2 != nil || w.OS != h.OS || w.Architecture != h.Architecture {
		return 0
	}
	if w.Variant == h.Variant {
		return 100
	}
	switch w.Architecture {
	case "amd64", "arm":
		if wv, hv := variantLevel(w.Variant), variantLevel(h.Variant); hv <= wv {
			return 1 + hv
		}
	}
	return 0
}

// variantLevel is the number of an amd64 or arm variant ("" is amd64's v1).
func variantLevel(v string) int {
	if v == "" {
		return 1
	}
	n := 0
	for _, c := range strings.TrimPrefix(v, "v") {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// Best returns the index in haves of the platform that serves want best by
// [Rank], or -1 when none does.
func Best(want ocispec.Platform, haves []ocispec.Platform) int {
	best, score := -1, 0
	for i, h := range haves {
		if s := Rank(want, h); s > score {
			best, score = i, s
		}
	}
	return best
}
