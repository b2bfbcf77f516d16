package image

import (
	"fmt"
	"regexp"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Known operating systems and architectures: Go's names plus "unknown",
// which BuildKit gives attestation manifests.
var (
	knownOS = set("aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js",
		"linux", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows", "unknown")
	knownArch = set("386", "amd64", "arm", "arm64", "loong64", "mips", "mipsle", "mips64",
		"mips64le", "ppc64", "ppc64le", "riscv64", "s390x", "wasm", "unknown")
	// archAlias maps kernel (uname -m), Debian and other common names to
	// Go's architecture and the variant they imply.
	archAlias = map[string][2]string{
		"x86_64": {"amd64", ""}, "x86-64": {"amd64", ""}, "x64": {"amd64", ""},
		"aarch64": {"arm64", ""}, "armv8": {"arm64", ""}, "armv8l": {"arm", "v8"},
		"armv7l": {"arm", "v7"}, "armv7": {"arm", "v7"}, "armhf": {"arm", "v7"},
		"armv6l": {"arm", "v6"}, "armv6": {"arm", "v6"}, "armel": {"arm", "v5"}, "armv5l": {"arm", "v5"},
		"i386": {"386", ""}, "i486": {"386", ""}, "i586": {"386", ""}, "i686": {"386", ""}, "x86": {"386", ""},
		"ppc64el": {"ppc64le", ""}, "riscv": {"riscv64", ""},
	}
	arm64Variant = regexp.MustCompile(`^v(8|9)(\.[0-9])?$`)
)

func set(xs ...string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// ParsePlatform parses "os/arch[/variant]" (or "arch" alone, meaning linux)
// into its normal form: aliases resolved (x86_64→amd64, aarch64→arm64,
// armv7l→arm/v7) and default variants dropped (amd64/v1→amd64,
// arm64/v8→arm64), except arm whose default v7 is spelt out. An OS,
// architecture or variant it does not know is an error naming the input.
func ParsePlatform(s string) (ocispec.Platform, error) {
	parts := strings.Split(strings.ToLower(strings.TrimSpace(s)), "/")
	var p ocispec.Platform
	switch len(parts) {
	case 1:
		p.OS, p.Architecture = "linux", parts[0]
	case 2:
		p.OS, p.Architecture = parts[0], parts[1]
	case 3:
		p.OS, p.Architecture, p.Variant = parts[0], parts[1], parts[2]
	default:
		return p, fmt.Errorf("platform %q: want os/arch[/variant]", s)
	}
	n, err := normalize(p)
	if err != nil {
		return n, fmt.Errorf("platform %q: %w", s, err)
	}
	return n, nil
}

// normalize brings a platform to the form ParsePlatform returns.
func normalize(p ocispec.Platform) (ocispec.Platform, error) {
	p.OS, p.Architecture, p.Variant = strings.ToLower(p.OS), strings.ToLower(p.Architecture), strings.ToLower(p.Variant)
	if p.OS == "macos" {
		p.OS = "darwin"
	}
	if !knownOS[p.OS] {
		return p, fmt.Errorf("unknown operating system %q", p.OS)
	}
	if a, ok := archAlias[p.Architecture]; ok {
		if p.Variant != "" && a[1] != "" && p.Variant != a[1] {
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
	switch p.Architecture {
	case "amd64":
		switch p.Variant {
		case "", "v1":
			p.Variant = ""
		case "v2", "v3", "v4":
		default:
			return p, fmt.Errorf("unknown amd64 variant %q (want v1 to v4)", p.Variant)
		}
	case "arm64":
		switch {
		case p.Variant == "" || p.Variant == "v8" || p.Variant == "8":
			p.Variant = ""
		case arm64Variant.MatchString(p.Variant):
		default:
			return p, fmt.Errorf("unknown arm64 variant %q (want v8, v8.N, v9 or v9.N)", p.Variant)
		}
	case "arm":
		switch strings.TrimPrefix(p.Variant, "v") {
		case "":
			p.Variant = "v7"
		case "5", "6", "7", "8":
			p.Variant = "v" + strings.TrimPrefix(p.Variant, "v")
		default:
			return p, fmt.Errorf("unknown arm variant %q (want v5 to v8)", p.Variant)
		}
	default:
		if p.Variant != "" {
			return p, fmt.Errorf("architecture %s has no variant %q", p.Architecture, p.Variant)
		}
	}
	return p, nil
}

// FormatPlatform writes os/arch[/variant] of the platform's normal form,
// or its fields as they are if they do not normalise.
func FormatPlatform(p ocispec.Platform) string {
	if n, err := normalize(p); err == nil {
		p = n
	}
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// SamePlatform reports whether a and b name the same platform once
// normalised (OS version and features are not compared).
func SamePlatform(a, b ocispec.Platform) bool {
	na, errA := normalize(a)
	nb, errB := normalize(b)
	if errA != nil || errB != nil {
		return false
	}
	return na.OS == nb.OS && na.Architecture == nb.Architecture && na.Variant == nb.Variant
}

// compatible reports how well an image for have runs on want: 0 not at
// all, higher is better. An exact match ranks highest; an older variant of
// the same architecture (amd64 on amd64/v3, arm/v6 on arm/v7) ranks by
// its variant.
func compatible(want, have ocispec.Platform) int {
	w, err1 := normalize(want)
	h, err2 := normalize(have)
	if err1 != nil || err2 != nil || w.OS != h.OS || w.Architecture != h.Architecture {
		return 0
	}
	if w.Variant == h.Variant {
		return 100
	}
	switch w.Architecture {
	case "amd64", "arm":
		wv, hv := variantLevel(w.Variant), variantLevel(h.Variant)
		if hv <= wv {
			return 1 + hv
		}
	}
	return 0
}

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
