package distro

import (
	"debug/elf"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// GlibcVersion is a glibc release such as 2.36.
type GlibcVersion struct {
	Major, Minor, Patch int
}

// ParseGlibcVersion reads "2.36", "2.3.4" or "GLIBC_2.34".
func ParseGlibcVersion(s string) (GlibcVersion, error) {
	parts := strings.Split(strings.TrimPrefix(s, "GLIBC_"), ".")
	if len(parts) < 2 || len(parts) > 3 {
		return GlibcVersion{}, fmt.Errorf("glibc version %q: want X.Y or X.Y.Z", s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || p == "" || (len(p) > 1 && p[0] == '0') {
			return GlibcVersion{}, fmt.Errorf("glibc version %q: want X.Y or X.Y.Z", s)
		}
		n[i] = v
	}
	if n == [3]int{} {
		return GlibcVersion{}, fmt.Errorf("glibc version %q: zero", s)
	}
	return GlibcVersion{n[0], n[1], n[2]}, nil
}

func (v GlibcVersion) String() string {
	if v.Patch != 0 {
		return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	}
	return fmt.Sprintf("%d.%d", v.Major, v.Minor)
}

// IsZero reports whether v is the zero version.
func (v GlibcVersion) IsZero() bool { return v == GlibcVersion{} }

// Compare returns -1, 0 or 1 as v is older than, equal to or newer than w.
func (v GlibcVersion) Compare(w GlibcVersion) int {
	for _, d := range [3]int{v.Major - w.Major, v.Minor - w.Minor, v.Patch - w.Patch} {
		switch {
		case d < 0:
			return -1
		case d > 0:
			return 1
		}
	}
	return 0
}

// Floor is the oldest glibc a binary can run with.
type Floor struct {
	// Version is the newest GLIBC_x.y the binary needs; zero when it
	// needs no glibc (a static binary, or one linked against another libc).
	Version GlibcVersion
	// Symbol is an imported symbol bound to Version, e.g.
	// "__libc_start_main", when the symbol table names one.
	Symbol string
	// Static is true for a binary with no program interpreter.
	Static bool
	// Interpreter is the dynamic loader it asks for, e.g.
	// "/lib64/ld-linux-x86-64.so.2".
	Interpreter string
}

func (f Floor) String() string {
	switch {
	case f.Static:
		return "static: no glibc floor"
	case f.Version.IsZero():
		return "no GLIBC_ version needed (interpreter " + f.Interpreter + ")"
	case f.Symbol != "":
		return fmt.Sprintf("GLIBC_%s (%s)", f.Version, f.Symbol)
	}
	return "GLIBC_" + f.Version.String()
}

// GlibcFloor reads the ELF file at path and returns the newest GLIBC_x.y
// version its dynamic section requires. It runs nothing.
func GlibcFloor(path string) (Floor, error) {
	f, err := elf.Open(path)
	if err != nil {
		return Floor{}, fmt.Errorf("glibc floor of %s: %w", path, err)
	}
	defer f.Close()
	var fl Floor
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				return Floor{}, fmt.Errorf("glibc floor of %s: read interpreter: %w", path, err)
			}
			fl.Interpreter = strings.TrimRight(string(b), "\x00")
		}
	}
	if fl.Interpreter == "" && f.Section(".dynamic") == nil {
		fl.Static = true
		return fl, nil
	}
	needs, err := f.DynamicVersionNeeds()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return Floor{}, fmt.Errorf("glibc floor of %s: %w", path, err)
	}
	for _, n := range needs {
		for _, d := range n.Needs {
			if !strings.HasPrefix(d.Dep, "GLIBC_") || strings.HasPrefix(d.Dep, "GLIBC_PRIVATE") {
				continue
			}
			v, err := ParseGlibcVersion(d.Dep)
			if err != nil {
				continue // GLIBC_ABI_DT_RELR and other non-release tags
			}
			if v.Compare(fl.Version) > 0 {
				fl.Version = v
			}
		}
	}
	if fl.Version.IsZero() {
		return fl, nil
	}
	if syms, err := f.ImportedSymbols(); err == nil {
		for _, s := range syms {
			if s.Version == "GLIBC_"+fl.Version.String() {
				fl.Symbol = s.Name
				break
			}
		}
	}
	return fl, nil
}

// CanRun says whether the binary at path can run on d as far as glibc is
// concerned, and why not when it cannot.
func CanRun(path string, d Distro) (bool, string, error) {
	if d.Glibc.IsZero() {
		return false, "", fmt.Errorf("can %s run on %q: the distro has no glibc version", path, d.ID)
	}
	fl, err := GlibcFloor(path)
	if err != nil {
		return false, "", err
	}
	switch {
	case fl.Static:
		return true, fmt.Sprintf("%s is static", path), nil
	case fl.Version.IsZero() && strings.Contains(fl.Interpreter, "musl"):
		return false, fmt.Sprintf("%s is linked against musl (%s), which %s does not ship", path, fl.Interpreter, d), nil
	case fl.Version.Compare(d.Glibc) > 0:
		return false, fmt.Sprintf("%s needs %s; %s ships glibc %s", path, fl, d, d.Glibc), nil
	}
	return true, fmt.Sprintf("%s needs %s; %s ships glibc %s", path, fl, d, d.Glibc), nil
}
