package mirror

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/matrixbox/matrixbox/ociimage"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// buildDebian makes linux/arch's image of a Debian suite with debootstrap
// --variant=minbase (plus the recipe's packages) and one layer of the
// resulting tree. A foreign architecture is bootstrapped with --foreign and
// its second stage run under qemu-user-static through binfmt_misc.
func buildDebian(ctx context.Context, r recipeSource, arch, work string) (*ociimage.Image, error) {
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return nil, fmt.Errorf("recipe needs debootstrap (apt-get install debootstrap): %w", ErrMissingTool)
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("recipe needs root to run debootstrap: %w", ErrMissingTool)
	}
	foreign := arch != hostDebArch()
	var qemu string
	if foreign {
		q, err := qemuFor(arch)
		if err != nil {
			return nil, err
		}
		qemu = q
	}
	root := filepath.Join(work, "rootfs-"+arch)
	args := []string{"--variant=minbase", "--arch=" + arch}
	if len(r.packages) > 0 {
		args = append(args, "--include="+strings.Join(r.packages, ","))
	}
	if foreign {
		args = append(args, "--foreign")
	}
	args = append(args, r.suite, root, debianArchive())
	if err := runLogged(ctx, "debootstrap", args...); err != nil {
		unmountUnder(root)
		return nil, err
	}
	if foreign {
		if err := secondStage(ctx, root, qemu); err != nil {
			unmountUnder(root)
			return nil, err
		}
	}
	if err := unmountUnder(root); err != nil {
		return nil, err
	}
	// Leave no apt lists or package cache in the image: they are large
	// and differ from run to run.
	for _, p := range []string{"var/cache/apt/archives", "var/lib/apt/lists"} {
		ents, _ := os.ReadDir(filepath.Join(root, p))
		for _, e := range ents {
			if e.Name() != "partial" && e.Name() != "lock" {
				os.RemoveAll(filepath.Join(root, p, e.Name()))
			}
		}
	}
	layer, err := ociimage.LayerFromDir(root)
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(root); err != nil {
		return nil, fmt.Errorf("remove %s: %w", root, err)
	}
	return ociimage.Build(ociimage.Config{
		Platform: ocispec.Platform{OS: "linux", Architecture: arch},
		Cmd:      []string{"/bin/bash"},
		Env:      []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		Labels: map[string]string{
			"org.matrixbox.recipe":     r.raw,
			"org.matrixbox.debian":     r.version,
			"org.matrixbox.debian.pkg": strings.Join(r.packages, ","),
		},
	}, layer)
}

// qemuFor finds the static emulator binfmt_misc runs arch's binaries with.
func qemuFor(arch string) (string, error) {
	name := map[string]string{"arm64": "aarch64", "armhf": "arm", "arm": "arm", "riscv64": "riscv64", "ppc64le": "ppc64le", "s390x": "s390x", "386": "i386"}[arch]
	if name == "" {
		return "", fmt.Errorf("no emulator known for %s", arch)
	}
	q, err := exec.LookPath("qemu-" + name + "-static")
	if err != nil {
		return "", fmt.Errorf("foreign architecture %s needs qemu-%s-static (apt-get install qemu-user-static binfmt-support): %w", arch, name, ErrMissingTool)
	}
	if _, err := os.Stat("/proc/sys/fs/binfmt_misc/qemu-" + name); err != nil {
		return "", fmt.Errorf("foreign architecture %s needs binfmt_misc registered for qemu-%s (apt-get install binfmt-support): %w", arch, name, ErrMissingTool)
	}
	return q, nil
}

// secondStage runs debootstrap's second stage inside root under qemu. The
// emulator is placed where the binfmt_misc entry names its interpreter
// (inside the chroot, unless the entry has the F flag) and removed after.
func secondStage(ctx context.Context, root, qemu string) error {
	name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(qemu), "qemu-"), "-static")
	entry, err := os.ReadFile("/proc/sys/fs/binfmt_misc/qemu-" + name)
	if err != nil {
		return err
	}
	var interp string
	for _, line := range strings.Split(string(entry), "\n") {
		if v, ok := strings.CutPrefix(line, "interpreter "); ok {
			interp = v
		}
	}
	if interp == "" {
		return fmt.Errorf("binfmt_misc qemu-%s names no interpreter", name)
	}
	inside := filepath.Join(root, interp)
	if err := os.MkdirAll(filepath.Dir(inside), 0o755); err != nil {
		return err
	}
	data, err := os.ReadFile(qemu)
	if err != nil {
		return err
	}
	if err := os.WriteFile(inside, data, 0o755); err != nil {
		return err
	}
	defer os.Remove(inside)
	err = runLogged(ctx, "chroot", root, "/debootstrap/debootstrap", "--second-stage")
	if err != nil {
		// debootstrap's own log says which maintainer script failed.
		if b, rerr := os.ReadFile(filepath.Join(root, "debootstrap/debootstrap.log")); rerr == nil {
			if len(b) > 3000 {
				b = b[len(b)-3000:]
			}
			err = fmt.Errorf("%w\ndebootstrap.log (end):\n%s", err, b)
		}
	}
	return err
}

// runLogged runs a command, returning its output in the error if it fails.
// debootstrap ignores SIGTERM and forks dpkg and apt, so the command runs in
// its own process group, killed whole when ctx ends, with a parent-death
// signal; and its tree carries MATRIXBOX_OWNER (EnvOwner of internal/supervise, which this
// package may not import) so the test process's guard removes it if the
// test process dies mid-build.
func runLogged(ctx context.Context, name string, args ...string) error {
	env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C")
	return runLoggedIn(ctx, "", env, name, args...)
}

// runLoggedIn is runLogged in directory dir ("" for the current one) with
// exactly the environment env (plus MATRIXBOX_OWNER).
func runLoggedIn(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(slices.Clip(env), "MATRIXBOX_OWNER="+strconv.Itoa(os.Getpid()))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Run(); err != nil {
		tail := out.String()
		if len(tail) > 4000 {
			tail = "..." + tail[len(tail)-4000:]
		}
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, tail)
	}
	return nil
}
