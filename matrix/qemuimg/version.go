package qemuimg

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Version is a qemu-img version: 7.2.22, with the distribution's package
// string when it printed one ("Debian 1:7.2+dfsg-7+deb12u18+b3",
// "qemu-kvm-8.2.0-11.el9_4.3").
type Version struct {
	Major, Minor, Micro int
	// Package is the text in parentheses after the version, "" when none.
	Package string
}

// versionLine matches the first line qemu-img prints for --version. QEMU
// itself always prints major.minor.micro, but builds have been seen to
// shorten it, so micro is optional.
var versionLine = regexp.MustCompile(`^qemu-img version (\d{1,4})\.(\d{1,4})(?:\.(\d{1,6}))?(?:\s*\(([^()\n]*)\))?\s*(?:,.*)?$`)

// ParseVersion reads the output of `qemu-img --version`: its first
// non-empty line is "qemu-img version X.Y[.Z] [(package)]"; what follows (the
// Copyright line) is ignored. Anything else is an error quoting the input;
// it never yields a zero Version.
func ParseVersion(out string) (Version, error) {
	line := firstLine(out)
	m := versionLine.FindStringSubmatch(line)
	if m == nil {
		return Version{}, fmt.Errorf("qemu-img --version: %q is not \"qemu-img version X.Y[.Z] [(package)]\"", clip(out))
	}
	var v Version
	var err error
	if v.Major, err = strconv.Atoi(m[1]); err != nil {
		return Version{}, fmt.Errorf("qemu-img --version: %q: %w", clip(out), err)
	}
	if v.Minor, err = strconv.Atoi(m[2]); err != nil {
		return Version{}, fmt.Errorf("qemu-img --version: %q: %w", clip(out), err)
	}
	if m[3] != "" {
		if v.Micro, err = strconv.Atoi(m[3]); err != nil {
			return Version{}, fmt.Errorf("qemu-img --version: %q: %w", clip(out), err)
		}
	}
	v.Package = strings.TrimSpace(m[4])
	if v.Major == 0 && v.Minor == 0 && v.Micro == 0 {
		return Version{}, fmt.Errorf("qemu-img --version: %q: version 0.0.0", clip(out))
	}
	return v, nil
}

// MustVersion parses "X.Y[.Z]" for tables of constants; it panics on a
// malformed literal, so use it only with literals.
func MustVersion(s string) Version {
	v, err := ParseNumber(s)
	if err != nil {
		panic(err)
	}
	return v
}

// ParseNumber reads a bare "X.Y[.Z]" such as a baseline directory name.
func ParseNumber(s string) (Version, error) {
	v, err := ParseVersion("qemu-img version " + s)
	if err != nil || v.Package != "" || strings.ContainsAny(s, " (") {
		return Version{}, fmt.Errorf("qemu-img version number %q: want X.Y or X.Y.Z", s)
	}
	return v, nil
}

// String is "X.Y.Z"; the package string is left out.
func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Micro) }

// Long is the version as qemu-img prints it, with the package string.
func (v Version) Long() string {
	if v.Package == "" {
		return v.String()
	}
	return v.String() + " (" + v.Package + ")"
}

// IsZero reports whether v is the zero Version, which ParseVersion never
// returns.
func (v Version) IsZero() bool { return v.Major == 0 && v.Minor == 0 && v.Micro == 0 }

// Compare orders versions by number; the package string does not count.
func (v Version) Compare(w Version) int {
	for _, d := range [3]int{v.Major - w.Major, v.Minor - w.Minor, v.Micro - w.Micro} {
		if d != 0 {
			if d < 0 {
				return -1
			}
			return 1
		}
	}
	return 0
}

// AtLeast reports whether v >= w.
func (v Version) AtLeast(w Version) bool { return v.Compare(w) >= 0 }

// SameMinor reports whether v and w share major.minor.
func (v Version) SameMinor(w Version) bool { return v.Major == w.Major && v.Minor == w.Minor }

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}
