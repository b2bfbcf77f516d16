package mirror

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// compileBusybox unpacks the source package dsc (dpkg-source applies
// Debian's patches) and compiles it for t in a tree under work, writing
// out/busybox, out/applets (their names, one a line) and out/links (their
// install paths):
// upstream's `make defconfig`, the changes of busyboxConfig, `make
// busybox busybox.links`. The environment is fixed (PATH, LC_ALL=C, TZ=UTC,
// SOURCE_DATE_EPOCH from debian/changelog, no host CFLAGS or MAKEFLAGS) so
// the same source and compiler give the same binary on every host. A musl
// target is compiled by the same gcc with musl's specs, which let it see
// musl's headers alone, and the target's Linux kernel headers beside them.
func compileBusybox(ctx context.Context, dsc string, t busyboxTarget, musl *muslToolchain, work, out string) error {
	tree := filepath.Join(work, "busybox-"+t.debArch)
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work, "LC_ALL=C", "TZ=UTC"}
	if err := runLoggedIn(ctx, work, env, "dpkg-source", "--no-check", "-x", dsc, tree); err != nil {
		return err
	}
	changelog, err := os.ReadFile(filepath.Join(tree, "debian", "changelog"))
	if err != nil {
		return err
	}
	date, err := changelogTime(changelog)
	if err != nil {
		return fmt.Errorf("%s: %w", dsc, err)
	}
	env = append(env, "SOURCE_DATE_EPOCH="+strconv.FormatInt(date.Unix(), 10))
	target := []string{"ARCH=" + t.kbuildArch, "CROSS_COMPILE=" + t.gcc + "-"}
	if musl != nil {
		inc, err := kernelHeaders(work, t)
		if err != nil {
			return err
		}
		target = append(target, "CC="+t.gcc+"-gcc -specs "+musl.specs+" -isystem "+inc)
	}
	runMake := func(args ...string) error {
		return runLoggedIn(ctx, tree, env, "make", append(slices.Clone(target), args...)...)
	}
	config := filepath.Join(tree, ".config")
	editFile := func(check bool) error {
		b, err := os.ReadFile(config)
		if err == nil {
			b, err = editConfig(b, busyboxConfig, check)
		}
		if err == nil && !check {
			err = os.WriteFile(config, b, 0o644)
		}
		return err
	}
	if err := runMake("defconfig"); err != nil {
		return err
	}
	if err := editFile(false); err != nil {
		return err
	}
	// All symbols have values after defconfig, so oldconfig asks nothing;
	// were it to ask, it reads end of input and fails rather than guess.
	if err := runMake("oldconfig"); err != nil {
		return err
	}
	if err := editFile(true); err != nil {
		return fmt.Errorf("after make oldconfig: %w", err)
	}
	if err := runMake("-j"+strconv.Itoa(runtime.NumCPU()), "busybox", "busybox.links"); err != nil {
		return err
	}
	bin, err := os.ReadFile(filepath.Join(tree, "busybox"))
	if err != nil {
		return err
	}
	links, err := os.ReadFile(filepath.Join(tree, "busybox.links"))
	if err != nil {
		return err
	}
	applets, err := parseLinks(links)
	if err != nil {
		return err
	}
	err = errors.Join(
		os.WriteFile(filepath.Join(out, "busybox"), bin, 0o755),
		os.WriteFile(filepath.Join(out, "applets"), []byte(strings.Join(applets, "\n")+"\n"), 0o644),
		os.WriteFile(filepath.Join(out, "links"), links, 0o644))
	return errors.Join(err, os.RemoveAll(tree))
}

// busyboxToolchain checks that the host has what compileBusybox runs, and
// names the Debian packages to install when not. It returns what of the
// toolchain goes into the binary: the compiler and the static C library
// (musl's, when musl is not nil).
func busyboxToolchain(ctx context.Context, t busyboxTarget, musl *muslToolchain) (busyboxTools, error) {
	cc, strip := t.gcc+"-gcc", t.gcc+"-strip"
	for _, tool := range []struct{ bin, pkg string }{
		{"make", "make"}, {"dpkg-source", "dpkg-dev"}, {"patch", "patch"},
		{"bzip2", "bzip2"}, {"xz", "xz-utils"},
		{cc, t.compilerPackages()}, {strip, t.compilerPackages()},
	} {
		if _, err := exec.LookPath(tool.bin); err != nil {
			return busyboxTools{}, fmt.Errorf("recipe:busybox for %s needs %s (apt-get install %s): %w", t.debArch, tool.bin, tool.pkg, ErrMissingTool)
		}
	}
	// gcc prints the bare name of a library it cannot find.
	out, err := exec.CommandContext(ctx, cc, "-print-file-name=libc.a").Output()
	libc := string(bytes.TrimSpace(out))
	if musl != nil {
		libc = musl.libcA
	}
	if err != nil || !filepath.IsAbs(libc) {
		return busyboxTools{}, fmt.Errorf("recipe:busybox for %s needs the static C library of %s (apt-get install %s): %w", t.debArch, cc, t.compilerPackages(), ErrMissingTool)
	}
	sum, err := fileSHA256(libc)
	if err != nil {
		return busyboxTools{}, err
	}
	version, err := exec.CommandContext(ctx, cc, "--version").Output()
	if err != nil {
		return busyboxTools{}, fmt.Errorf("%s --version: %w", cc, err)
	}
	first, _, _ := bytes.Cut(version, []byte("\n"))
	return busyboxTools{Compiler: string(first), LibcSHA256: sum}, nil
}

// kernelHeaders makes a directory under work holding the Linux kernel
// headers of t's architecture (linux, asm, asm-generic, mtd: the host's
// linux-libc-dev, or the cross compiler's libc6-dev-<arch>-cross), which
// gcc with musl's specs does not look in, and returns it.
func kernelHeaders(work string, t busyboxTarget) (string, error) {
	dir := filepath.Join(work, "kernel-headers-"+t.debArch)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	headers := map[string]string{
		"linux":       "/usr/include/linux",
		"asm-generic": "/usr/include/asm-generic",
		"mtd":         "/usr/include/mtd",
		"asm":         "/usr/include/" + t.gcc + "/asm",
	}
	if t.debArch != hostDebArch() {
		for name := range headers {
			headers[name] = "/usr/" + t.gcc + "/include/" + name
		}
	}
	for name, target := range headers {
		if _, err := os.Stat(target); err != nil {
			return "", fmt.Errorf("busybox with musl for %s needs the Linux kernel headers %s (apt-get install %s): %w", t.debArch, target, t.compilerPackages(), ErrMissingTool)
		}
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil && !os.IsExist(err) {
			return "", err
		}
	}
	return dir, nil
}
