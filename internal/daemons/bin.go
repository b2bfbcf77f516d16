package daemons

import (
	"debug/buildinfo"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// EnvBin names the directory the built releases live in, one directory
// per release: $MATRIXBOX_BIN/<component>/<version>/<binary>.
const EnvBin = "MATRIXBOX_BIN"

// DefaultBinDir is the bin directory when MATRIXBOX_BIN is unset.
const DefaultBinDir = "/usr/local/lib/matrixbox/bin"

// InstallCommand is how a user installs releases, from any module that
// requires matrixbox: `go run` of the matrixbox command, resolved through
// their go.mod.
const InstallCommand = "go run github.com/matrixbox/matrixbox/cmd/matrixbox install"

// BinDir is the bin directory: $MATRIXBOX_BIN, else DefaultBinDir.
func BinDir() string {
	if d := os.Getenv(EnvBin); d != "" {
		return d
	}
	return DefaultBinDir
}

// Dir is where a built release's binaries live.
func (r Release) Dir() string { return filepath.Join(BinDir(), r.Component, r.Version) }

// Path is where binary name of the release is, installed or not; "" when
// the release has no such binary.
func (r Release) Path(name string) string {
	for _, b := range r.Binaries {
		if b.Name == name {
			if r.Built() {
				return filepath.Join(r.Dir(), name)
			}
			return b.Package
		}
	}
	return ""
}

// InstallHint is the command that installs the release.
func (r Release) InstallHint() string {
	if r.Built() {
		return InstallCommand + " " + r.ID()
	}
	return InstallCommand + " " + r.ID() + " (apt-get install " + r.Package + ")"
}

// Installed returns nil when every binary of the release is there and, for
// a built one, was built from the release's module version; else an error
// naming what is missing and the command that installs it.
func (r Release) Installed() error {
	var errs []error
	for _, b := range r.Binaries {
		if err := r.check(r.Path(b.Name)); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s %s is not installed (%w): %s", r.Component, r.Version, errors.Join(errs...), r.InstallHint())
	}
	return nil
}

func (r Release) check(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%s: no such file", path)
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return fmt.Errorf("%s: not an executable file", path)
	}
	if !r.Built() {
		return nil
	}
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: no Go build information: %v", path, err)
	}
	if info.Main.Path != r.Module {
		return fmt.Errorf("%s: built from %s, not %s", path, info.Main.Path, r.Module)
	}
	// Built in the module's own directory with -trimpath, a binary's build
	// information says neither the module's version ("(devel)") nor the
	// -ldflags that stamped it: the stamp the installer wrote does.
	want := r.stampOf(filepath.Base(path), st)
	got, err := os.ReadFile(filepath.Join(filepath.Dir(path), stampFile))
	if err != nil || !strings.Contains(string(got), want) {
		return fmt.Errorf("%s: not built by matrixbox install from %s %s (no matching %s)", path, r.Module, r.ModVersion, stampFile)
	}
	return nil
}

// stampFile, in a release's directory, says what each of its binaries was
// built from: a line per binary of its name, size and modification time,
// the module, its version and the -ldflags.
const stampFile = ".matrixbox-release"

func (r Release) stampOf(name string, st os.FileInfo) string {
	return fmt.Sprintf("%s %d %d %s %s %q\n", name, st.Size(), st.ModTime().UnixNano(), r.Module, r.ModVersion, strings.Join(r.LDFlags, " "))
}

// writeStamp records the binaries of r, just installed in r.Dir().
func (r Release) writeStamp() error {
	var b strings.Builder
	for _, bin := range r.Binaries {
		st, err := os.Stat(filepath.Join(r.Dir(), bin.Name))
		if err != nil {
			return err
		}
		b.WriteString(r.stampOf(bin.Name, st))
	}
	return os.WriteFile(filepath.Join(r.Dir(), stampFile), []byte(b.String()), 0o644)
}
