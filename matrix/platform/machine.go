package platform

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// machine is what the helpers look at: the operating system and architecture
// this process runs on, and a root under which /proc and /usr are read (so
// tests can hand it a fake tree).
type machine struct {
	root string
	os   string
	arch string
}

// Native reports whether this machine executes code of platform p itself.
func Native(p ocispec.Platform) bool {
	ok, _ := thisMachine().native(p)
	return ok
}

// Emulated reports whether a binfmt_misc handler for p's architecture is
// registered and enabled, so the kernel hands p's binaries to an emulator.
func Emulated(p ocispec.Platform) bool {
	_, err := thisMachine().emulated(p)
	return err == nil
}

// Runnable says how this machine runs code of platform p: "native", or
// "emulated by binfmt_misc <handler>". When it cannot, the error says what is
// missing and how to get it.
func Runnable(p ocispec.Platform) (how string, err error) {
	return thisMachine().runnable(p)
}

func (m machine) String() string { return m.os + "/" + m.arch }

func (m machine) runnable(p ocispec.Platform) (string, error) {
	ok, why := m.native(p)
	if ok {
		return "native", nil
	}
	if p.OS != m.os {
		return "", fmt.Errorf("%s: %s", Format(p), why)
	}
	if p.Architecture == m.arch || (m.arch == "amd64" && p.Architecture == "386") {
		// Same CPU family without the level's features: a binfmt handler
		// would never be consulted for the host's own ELF machine.
		return "", fmt.Errorf("%s: %s", Format(p), why)
	}
	handler, err := m.emulated(p)
	if err != nil {
		return "", err
	}
	return "emulated by binfmt_misc " + handler, nil
}

// native decides, and when false says why.
func (m machine) native(p ocispec.Platform) (bool, string) {
	if p.OS != m.os {
		return false, fmt.Sprintf("this machine is %s, not %s", m, p.OS)
	}
	switch {
	case p.Architecture == m.arch:
	case m.arch == "amd64" && p.Architecture == "386":
		return true, ""
	default:
		return false, fmt.Sprintf("this machine is %s", m)
	}
	if p.Architecture != "amd64" {
		return true, ""
	}
	need := amd64Level[p.Variant]
	if len(need) == 0 {
		return true, ""
	}
	have, err := m.cpuFlags()
	if err != nil {
		return false, fmt.Sprintf("cannot read CPU flags: %v", err)
	}
	var missing []string
	for _, f := range need {
		if !have[f] {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return false, fmt.Sprintf("x86-64-%s needs CPU flags %s, which this CPU lacks", p.Variant, strings.Join(missing, ","))
	}
	return true, ""
}

// amd64Level lists the /proc/cpuinfo flags each x86-64 microarchitecture
// level requires (pni is SSE3, abm carries LZCNT, lahf_lm is LAHF-SAHF in
// long mode).
var amd64Level = func() map[string][]string {
	v2 := []string{"cx16", "lahf_lm", "pni", "popcnt", "sse4_1", "sse4_2", "ssse3"}
	v3 := append(append([]string(nil), v2...), "abm", "avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "movbe", "xsave")
	v4 := append(append([]string(nil), v3...), "avx512bw", "avx512cd", "avx512dq", "avx512f", "avx512vl")
	return map[string][]string{"v2": v2, "v3": v3, "v4": v4}
}()

func (m machine) cpuFlags() (map[string]bool, error) {
	f, err := os.Open(filepath.Join(m.root, "proc/cpuinfo"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "flags" {
			flags := map[string]bool{}
			for _, f := range strings.Fields(v) {
				flags[f] = true
			}
			return flags, nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%s has no flags line", f.Name())
}

// elfID is what a binfmt_misc magic selects: ELF class, byte order and
// machine.
type elfID struct {
	class   elf.Class
	data    elf.Data
	machine elf.Machine
}

var archELF = map[string]elfID{
	"386":      {elf.ELFCLASS32, elf.ELFDATA2LSB, elf.EM_386},
	"amd64":    {elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_X86_64},
	"arm":      {elf.ELFCLASS32, elf.ELFDATA2LSB, elf.EM_ARM},
	"arm64":    {elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_AARCH64},
	"loong64":  {elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_LOONGARCH},
	"mips":     {elf.ELFCLASS32, elf.ELFDATA2MSB, elf.EM_MIPS},
	"mipsle":   {elf.ELFCLASS32, elf.ELFDATA2LSB, elf.EM_MIPS},
	"mips64":   {elf.ELFCLASS64, elf.ELFDATA2MSB, elf.EM_MIPS},
	"mips64le": {elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_MIPS},
	"ppc64":    {elf.ELFCLASS64, elf.ELFDATA2MSB, elf.EM_PPC64},
	"ppc64le":  {elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_PPC64},
	"riscv64":  {elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_RISCV},
	"s390x":    {elf.ELFCLASS64, elf.ELFDATA2MSB, elf.EM_S390},
}

// qemuName is the name QEMU (and Debian's qemu-user-static) gives each
// architecture's binfmt_misc handler, after "qemu-".
var qemuName = map[string]string{
	"386": "i386", "amd64": "x86_64", "arm": "arm", "arm64": "aarch64",
	"loong64": "loongarch64", "mips": "mips", "mipsle": "mipsel", "mips64": "mips64",
	"mips64le": "mips64el", "ppc64": "ppc64", "ppc64le": "ppc64le",
	"riscv64": "riscv64", "s390x": "s390x",
}

const binfmtDir = "proc/sys/fs/binfmt_misc"

// binfmtEntry is one registered handler.
type binfmtEntry struct {
	name        string
	enabled     bool
	interpreter string
	flags       string
	offset      string
	magic       []byte
	mask        []byte
}

// emulated returns the enabled handler for p's architecture, or an error
// naming the platform, the handler it needs and how to get it.
func (m machine) emulated(p ocispec.Platform) (string, error) {
	id, ok := archELF[p.Architecture]
	want := "qemu-" + qemuName[p.Architecture]
	if !ok {
		return "", fmt.Errorf("%s: no known binfmt_misc handler for architecture %s", Format(p), p.Architecture)
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s needs binfmt_misc %s: %s", Format(p), want, fmt.Sprintf(format, args...))
	}
	dir := filepath.Join(m.root, binfmtDir)
	status, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return "", fail("binfmt_misc is not mounted at /%s (mount -t binfmt_misc binfmt_misc /%s, then %s)", binfmtDir, binfmtDir, m.installHint(want))
	}
	if strings.TrimSpace(string(status)) != "enabled" {
		return "", fail("binfmt_misc is disabled (echo 1 > /%s/status)", binfmtDir)
	}
	entries, err := m.binfmtEntries()
	if err != nil {
		return "", fail("%v", err)
	}
	var disabled, broken []string
	for _, e := range entries {
		if !e.matches(id) {
			continue
		}
		switch {
		case !e.enabled:
			disabled = append(disabled, e.name)
		case !strings.Contains(e.flags, "F") && !exists(filepath.Join(m.root, e.interpreter)):
			// Without F the kernel opens the interpreter at exec time, so
			// it has to exist in the caller's filesystem.
			broken = append(broken, fmt.Sprintf("%s (interpreter %s is missing)", e.name, e.interpreter))
		default:
			return e.name, nil
		}
	}
	switch {
	case len(disabled) > 0:
		return "", fail("%s is registered but disabled (update-binfmts --enable %s)", strings.Join(disabled, ", "), disabled[0])
	case len(broken) > 0:
		return "", fail("%s", strings.Join(broken, "; "))
	}
	return "", fail("no handler registered (%s)", m.installHint(want))
}

// installHint says how to get handler: enable it when its package is
// installed, install the package otherwise.
func (m machine) installHint(handler string) string {
	for _, f := range []string{"usr/share/binfmts/" + handler, "usr/lib/binfmt.d/" + handler + ".conf"} {
		if exists(filepath.Join(m.root, f)) {
			return "update-binfmts --enable " + handler
		}
	}
	return "apt-get install qemu-user-static"
}

func (m machine) binfmtEntries() ([]binfmtEntry, error) {
	dir := filepath.Join(m.root, binfmtDir)
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []binfmtEntry
	for _, de := range des {
		if de.Name() == "status" || de.Name() == "register" || de.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, de.Name()))
		if err != nil {
			return nil, err
		}
		e, err := parseBinfmt(de.Name(), b)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// parseBinfmt reads the kernel's description of one handler:
//
//	enabled
//	interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P
//	flags: POCF
//	offset 0
//	magic 7f454c46...
//	mask ffffffff...
func parseBinfmt(name string, b []byte) (binfmtEntry, error) {
	e := binfmtEntry{name: name}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
		v = strings.TrimSpace(v)
		var err error
		switch strings.TrimSuffix(k, ":") {
		case "enabled":
			e.enabled = true
		case "interpreter":
			e.interpreter = v
		case "flags":
			e.flags = v
		case "offset":
			e.offset = v
		case "magic":
			e.magic, err = hex.DecodeString(v)
		case "mask":
			e.mask, err = hex.DecodeString(v)
		}
		if err != nil {
			return e, fmt.Errorf("binfmt_misc entry %s: %s: %w", name, k, err)
		}
	}
	return e, nil
}

// matches reports whether the handler's magic selects ELF files of id.
func (e binfmtEntry) matches(id elfID) bool {
	if e.offset != "0" || len(e.magic) < 20 {
		return false
	}
	get := func(i int) byte {
		b := e.magic[i]
		if i < len(e.mask) {
			b &= e.mask[i]
		}
		return b
	}
	if !bytes.Equal([]byte{get(0), get(1), get(2), get(3)}, []byte(elf.ELFMAG)) {
		return false
	}
	if elf.Class(get(4)) != id.class || elf.Data(get(5)) != id.data {
		return false
	}
	var machine uint16
	if id.data == elf.ELFDATA2LSB {
		machine = uint16(get(18)) | uint16(get(19))<<8
	} else {
		machine = uint16(get(18))<<8 | uint16(get(19))
	}
	return elf.Machine(machine) == id.machine
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, os.ErrNotExist)
}
