package daemons

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// RuntimePackages are the distribution packages the workers run with,
// whatever their daemons' versions: runc (every container), iptables
// (dockerd wants the binary even with --iptables=false), nsenter (the
// containerd workers), a static busybox (the containerd workers' default
// image), RootlessKit and the subordinate-id helpers (the rootless
// workers).
var RuntimePackages = []string{"ca-certificates", "runc", "iptables", "util-linux", "busybox-static", "rootlesskit", "uidmap"}

// Installer installs releases: built ones from the Go module proxy with
// the go command, the others with the distribution's package manager. It
// says what it does on Log. Installing what is installed does nothing but
// say so.
type Installer struct {
	// Go is the go command; "go" when empty.
	Go string
	// Log receives a line per step.
	Log io.Writer
	// aptUpdated says apt-get update ran in this process.
	aptUpdated bool
}

func (in *Installer) say(format string, args ...any) {
	fmt.Fprintf(in.Log, "matrixbox install: "+format+"\n", args...)
}

// Install installs r unless it is installed already.
func (in *Installer) Install(ctx context.Context, r Release) error {
	if err := r.Installed(); err == nil {
		where := r.Dir()
		if !r.Built() {
			where = "package " + r.Package
		}
		in.say("%s %s is installed (%s)", r.Component, r.Version, where)
		return nil
	}
	if !r.Built() {
		if err := in.Packages(ctx, r.Package); err != nil {
			return err
		}
		return r.Installed()
	}
	if len(r.BuildPackages) > 0 {
		if err := in.Packages(ctx, r.BuildPackages...); err != nil {
			return fmt.Errorf("build %s %s: %w", r.Component, r.Version, err)
		}
	}
	start := time.Now()
	if err := in.build(ctx, r); err != nil {
		return fmt.Errorf("build %s %s from %s %s: %w", r.Component, r.Version, r.Module, r.ModVersion, err)
	}
	in.say("%s %s built from %s %s in %s into %s", r.Component, r.Version, r.Module, r.ModVersion, time.Since(start).Round(time.Second), r.Dir())
	return r.Installed()
}

// build compiles r's binaries in its module's own directory, so that the
// module's go.mod (its excludes and replaces included) decides every
// dependency, as it does for the project's own release builds; with
// Replace, in a copy whose requirements are rewritten first.
func (in *Installer) build(ctx context.Context, r Release) error {
	gocmd := in.Go
	if gocmd == "" {
		gocmd = "go"
	}
	in.say("%s %s: downloading %s %s", r.Component, r.Version, r.Module, r.ModVersion)
	src, err := in.download(ctx, gocmd, r.Module+"@"+r.ModVersion)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(r.Dir()), 0o755); err != nil {
		return err
	}
	// Beside the final directory, so that the binaries move in by rename.
	work, err := os.MkdirTemp(filepath.Dir(r.Dir()), ".build-"+r.Version+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	modFlag := "-mod=readonly"
	if len(r.Replace) > 0 {
		copyDir := filepath.Join(work, "src")
		if err := os.CopyFS(copyDir, os.DirFS(src)); err != nil {
			return fmt.Errorf("copy %s: %w", src, err)
		}
		if err := makeWritable(copyDir); err != nil {
			return err
		}
		src = copyDir
		args := []string{"mod", "edit"}
		for _, old := range slices.Sorted(maps.Keys(r.Replace)) {
			args = append(args, "-replace="+old+"="+r.Replace[old])
			in.say("%s %s: replacing %s with %s (the proxy does not serve it)", r.Component, r.Version, old, r.Replace[old])
		}
		if err := in.goRun(ctx, gocmd, src, false, args...); err != nil {
			return err
		}
		modFlag = "-mod=mod"
	}
	out := filepath.Join(work, "out")
	in.say("%s %s: compiling %s (minutes: a daemon is large)", r.Component, r.Version, binaryNames(r))
	for _, b := range r.Binaries {
		args := []string{"build", modFlag, "-trimpath", "-ldflags", strings.Join(r.LDFlags, " ")}
		if len(r.Tags) > 0 {
			args = append(args, "-tags", strings.Join(r.Tags, ","))
		}
		args = append(args, "-o", filepath.Join(out, b.Name), "./"+b.Package)
		if err := in.goRun(ctx, gocmd, src, r.CGO, args...); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(r.Dir(), 0o755); err != nil {
		return err
	}
	for _, b := range r.Binaries {
		if err := os.Rename(filepath.Join(out, b.Name), filepath.Join(r.Dir(), b.Name)); err != nil {
			return err
		}
	}
	return r.writeStamp()
}

// download fetches module@version through the module proxy and returns
// its directory in the module cache.
func (in *Installer) download(ctx context.Context, gocmd, modver string) (string, error) {
	cmd := exec.CommandContext(ctx, gocmd, "mod", "download", "-json", modver)
	cmd.Env = goEnv(false)
	cmd.Dir = os.TempDir() // outside any module of the caller's
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, runErr := cmd.Output()
	var res struct{ Dir, Error string }
	if err := json.Unmarshal(outb, &res); err != nil || res.Error != "" || res.Dir == "" {
		return "", fmt.Errorf("go mod download %s: %s%s%v", modver, res.Error, stderr.String(), runErr)
	}
	return res.Dir, nil
}

func (in *Installer) goRun(ctx context.Context, gocmd, dir string, cgo bool, args ...string) error {
	cmd := exec.CommandContext(ctx, gocmd, args...)
	cmd.Dir = dir
	cmd.Env = goEnv(cgo)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s (in %s): %w\n%s", gocmd, strings.Join(args, " "), dir, err, out.String())
	}
	return nil
}

// goEnv is the caller's environment for the go command, with no
// workspace or flags of the caller's in the way, and static binaries
// unless cgo is asked for.
func goEnv(cgo bool) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "GOFLAGS=") || strings.HasPrefix(kv, "GOWORK=") || strings.HasPrefix(kv, "CGO_ENABLED=")
	})
	enabled := "0"
	if cgo {
		enabled = "1"
	}
	return append(env, "CGO_ENABLED="+enabled, "GOWORK=off", "GOFLAGS=")
}

func makeWritable(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if d.IsDir() {
			mode = 0o755
		}
		return os.Chmod(p, mode)
	})
}

// Packages installs distribution packages that are not installed, with
// apt-get on Debian and Ubuntu; elsewhere it says which to install.
func (in *Installer) Packages(ctx context.Context, pkgs ...string) error {
	var need []string
	for _, p := range pkgs {
		out, err := exec.CommandContext(ctx, "dpkg-query", "-W", "-f=${Status}", p).Output()
		if err != nil || !strings.Contains(string(out), "install ok installed") {
			need = append(need, p)
		}
	}
	if len(need) == 0 {
		in.say("packages installed: %s", strings.Join(pkgs, " "))
		return nil
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return fmt.Errorf("install the packages %s with this system's package manager (matrixbox installs them with apt-get on Debian and Ubuntu, which this system lacks)", strings.Join(need, " "))
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("installing the packages %s needs root: run as root, or sudo apt-get install %s", strings.Join(need, " "), strings.Join(need, " "))
	}
	env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if !in.aptUpdated {
		in.say("apt-get update")
		if err := in.run(ctx, env, "apt-get", "update", "-qq"); err != nil {
			return err
		}
		in.aptUpdated = true
	}
	in.say("apt-get install %s", strings.Join(need, " "))
	return in.run(ctx, env, "apt-get", append([]string{"install", "-y", "-qq", "--no-install-recommends"}, need...)...)
}

func (in *Installer) run(ctx context.Context, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return nil
}

// Parse turns `matrixbox install` arguments into releases: "all", a set
// name, "component" (its default) or "component@version".
func Parse(args []string) ([]Release, error) {
	if len(args) == 0 {
		args = []string{SetDefault}
	}
	var out []Release
	add := func(rs ...Release) {
		for _, r := range rs {
			if !slices.ContainsFunc(out, func(o Release) bool { return o.ID() == r.ID() }) {
				out = append(out, r)
			}
		}
	}
	var errs []error
	for _, a := range args {
		comp, ver, hasVer := strings.Cut(a, "@")
		switch {
		case !hasVer && (a == SetDefault || a == SetAll):
			add(InSet(a)...)
		case !hasVer && slices.Contains(Components(), a):
			add(Default(a))
		case hasVer:
			r, err := Lookup(comp, ver)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			add(r)
		default:
			errs = append(errs, fmt.Errorf("%q: want %q, %q, a component (%s) or component@version", a, SetDefault, SetAll, strings.Join(Components(), ", ")))
		}
	}
	return out, errors.Join(errs...)
}

func binaryNames(r Release) string {
	names := make([]string, len(r.Binaries))
	for i, b := range r.Binaries {
		names[i] = b.Name
	}
	return strings.Join(names, ", ")
}

// setupSteps are what Setup does after the packages and daemons are in:
// the machine-wide set-up some workers need.
var setupSteps []func(ctx context.Context, in *Installer) error

// Setup prepares the machine for the workers that need more than binaries
// (each step says what it did on Log); it is safe to run again.
func (in *Installer) Setup(ctx context.Context) error {
	var errs []error
	for _, step := range setupSteps {
		errs = append(errs, step(ctx, in))
	}
	return errors.Join(errs...)
}
