package suite

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"

	"github.com/matrixbox/matrixbox/compat/buildkit/integration"
	cworkers "github.com/matrixbox/matrixbox/compat/buildkit/workers"
	"github.com/matrixbox/matrixbox/internal/daemons"
)

// StandIns are the images BuildKit's suites pull that matrixbox cannot
// have offline, each with the offline image both harnesses get in its place
// (keys as the suites name the images) when a run asks for stand-ins
// (matrixbox through MATRIXBOX_COMPAT_STANDINS). alpine:latest and
// busybox:stable-musl are not among them: the compat layer serves both
// offline by itself. Tests that depend on what the real image holds fail
// on both harnesses.
var StandIns = map[string]string{
	"amd64/debian:bullseye-20230109-slim": "recipe:busybox",
	"tonistiigi/hellofs:latest":           "recipe:busybox",
	"tonistiigi/test:nolayers":            "recipe:busybox",
	"cpuguy83/buildkit-foreign:latest":    "recipe:busybox",
	"busybox_amd64:latest":                "recipe:busybox",
}

// Crashers are tests that kill the test binary on both harnesses (a panic
// in a goroutine of their own, which no harness can recover), by suite,
// with the reason. They are left out of every run, with -test.skip, so
// that the rest of the suite runs.
var Crashers = map[string]map[string]string{}

// skipPattern is the -test.skip pattern of a suite's crashers, "" when none.
func skipPattern(suite string) string {
	names := slices.Sorted(maps.Keys(Crashers[suite]))
	if len(names) == 0 {
		return ""
	}
	return "/^(" + strings.Join(names, "|") + ")$"
}

// MirrorImages are the images both harnesses find in their mirror, by the
// names the suites mirror them under: the official images from the
// compat layer's offline sources, the rest from their stand-ins.
func MirrorImages() map[string]string {
	m := integration.OfficialImages("busybox:latest", "alpine:latest", "busybox:stable-musl")
	for name, src := range StandIns {
		if !strings.Contains(name, "/") {
			name = "library/" + name
		}
		m[name] = src
	}
	return m
}

// standInsEnv is StandIns as MATRIXBOX_COMPAT_STANDINS.
func standInsEnv() string {
	var entries []string
	for _, name := range slices.Sorted(maps.Keys(StandIns)) {
		entries = append(entries, name+"="+StandIns[name])
	}
	return integration.EnvStandIns + "=" + strings.Join(entries, ",")
}

// DaemonPath is the PATH directories, in order, of the daemons BuildKit's
// own harness finds on PATH, taken from matrixbox's version table: buildkitd
// and buildctl of BuildKit buildkit (the suite's version), and the default
// releases of containerd and its shim, runc, distribution's registry and
// dockerd. A release that is not installed is an error naming the command
// that installs it.
func DaemonPath(buildkit string) ([]string, error) {
	bk, err := daemons.Lookup(daemons.BuildKit, buildkit)
	if err != nil {
		return nil, err
	}
	var dirs []string
	var errs []error
	for _, r := range []daemons.Release{bk, daemons.Default(daemons.Containerd), daemons.Default(daemons.Runc),
		daemons.Default(daemons.Registry), daemons.Default(daemons.Moby)} {
		if err := r.Installed(); err != nil {
			errs = append(errs, err)
			continue
		}
		dirs = append(dirs, r.Dir())
	}
	return dirs, errors.Join(errs...)
}

// keptMatrixboxEnv are the matrixbox variables a suite run keeps from the
// caller; the others (selection, shards, parallelism, ...) would make the
// two harnesses run differently.
var keptMatrixboxEnv = []string{"MATRIXBOX_BIN", "MATRIXBOX_MIRROR_DIR", "MATRIXBOX_LOGS", "MATRIXBOX_WATCHDOG", "MATRIXBOX_REPORT"}

// droppedEnv are BuildKit harness variables that change which workers or
// tests run.
var droppedEnv = []string{"BUILDKIT_REGISTRY_MIRROR_DIR", "BUILDKIT_WORKER_RANDOM", "SKIP_INTEGRATION_TESTS", "TEST_DOCKERD",
	"BUILDKIT_TEST_ENABLE_FEATURES", "BUILDKIT_TEST_DISABLE_FEATURES", "BUILDKIT_INTEGRATION_ROOTLESS_IDPAIR", "BUILDKIT_INTEGRATION_SNAPSHOTTER",
	"BUILDKIT_INTEGRATION_CONTAINERD_EXTRA", "FRONTEND_BUILTIN_ONLY", "FRONTEND_CLIENT_ONLY", "FRONTEND_GATEWAY_ONLY"}

// ContainerdExtra is BUILDKIT_INTEGRATION_CONTAINERD_EXTRA for BuildKit's
// harness: its containerd-<major>.<minor> workers on the containerd
// releases the compat layer's workers of those names run, each from a
// directory under dir holding that release's containerd and shim (BuildKit
// puts it first on the daemon's PATH). Releases not installed are left
// out.
func ContainerdExtra(dir string) (string, error) {
	rels := cworkers.ContainerdReleases()
	var entries []string
	for _, name := range slices.Sorted(maps.Keys(rels)) {
		r, err := daemons.Lookup(daemons.Containerd, rels[name])
		if err != nil {
			return "", err
		}
		if r.Default || r.Installed() != nil {
			continue
		}
		bin := filepath.Join(dir, name)
		if err := os.MkdirAll(bin, 0o755); err != nil {
			return "", err
		}
		for _, b := range r.Binaries {
			link := filepath.Join(bin, b.Name)
			os.Remove(link)
			if err := os.Symlink(r.Path(b.Name), link); err != nil {
				return "", err
			}
		}
		entries = append(entries, name+"="+bin)
	}
	return strings.Join(entries, ","), nil
}

// RootlessIDPair is BUILDKIT_INTEGRATION_ROOTLESS_IDPAIR ("uid:gid") for
// BuildKit's harness, whose rootless workers start their daemons with
// `sudo -u #uid -i -- exec rootlesskit buildkitd …`: the ids of user, once
// its login shell is proved to find buildkitd, the daemon the suite runs
// (DaemonPath's), and RootlessKit. The user needs sudo, a login shell, a
// PATH with those daemons first (its ~/.profile), subordinate ids, and
// for containerd-rootless nerdctl's containerd-rootless.sh and
// slirp4netns; the error says which is missing.
func RootlessIDPair(ctx context.Context, username, buildkitd string) (string, error) {
	u, err := user.Lookup(username)
	if err != nil {
		return "", fmt.Errorf("BuildKit's rootless workers: %w", err)
	}
	fix := fmt.Sprintf("give %s a login shell and a ~/.profile that puts %s first on PATH", username, filepath.Dir(buildkitd))
	for _, probe := range []struct{ cmd, want string }{
		{"command -v buildkitd", buildkitd},
		{"command -v rootlesskit", ""},
	} {
		out, err := exec.CommandContext(ctx, "sudo", "-u", "#"+u.Uid, "-i", "--", "sh", "-c", probe.cmd).CombinedOutput()
		got := strings.TrimSpace(string(out))
		if err != nil || (probe.want != "" && got != probe.want) {
			return "", fmt.Errorf("BuildKit's rootless workers run sudo -u #%s -i: %q found %q (%v), want %q: %s", u.Uid, probe.cmd, got, err, probe.want, fix)
		}
	}
	return u.Uid + ":" + u.Gid, nil
}

// Env is the environment of a run on harness h, from base (the caller's):
// matrixbox gets the stand-ins when standIns is set; BuildKit's harness
// gets path (DaemonPath) first on PATH, so both run the same daemons, and
// its mirror directory.
func Env(h Harness, base, path []string, buildkitMirror string, standIns bool) []string {
	var env []string
	for _, kv := range base {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "MATRIXBOX_") && !slices.Contains(keptMatrixboxEnv, k),
			slices.Contains(droppedEnv, k):
			continue
		case k == "PATH" && h == Buildkit:
			kv = "PATH=" + strings.Join(append(slices.Clone(path), v), string(os.PathListSeparator))
		}
		env = append(env, kv)
	}
	if h == Matrixbox {
		env = append(env, "MATRIXBOX_CONFIG=none")
		if standIns {
			env = append(env, standInsEnv())
		}
		return env
	}
	return append(env, "BUILDKIT_REGISTRY_MIRROR_DIR="+buildkitMirror)
}

// SeedBuildkitMirror makes dst a mirror directory for BuildKit's harness
// (BUILDKIT_REGISTRY_MIRROR_DIR) holding a copy of the registry storage of
// the matrixbox mirror at mirrorDir: BuildKit's harness finds the images
// present and copies nothing.
func SeedBuildkitMirror(mirrorDir, dst string) error {
	src := filepath.Join(mirrorDir, "registry")
	if _, err := os.Stat(filepath.Join(src, "docker")); err != nil {
		return fmt.Errorf("seed BuildKit's mirror: %s holds no registry storage: %w", src, err)
	}
	data := filepath.Join(dst, "data")
	if err := os.RemoveAll(data); err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return err
	}
	if out, err := exec.Command("cp", "-a", src, data).CombinedOutput(); err != nil {
		return fmt.Errorf("seed BuildKit's mirror: cp -a %s %s: %v\n%s", src, data, err, out)
	}
	return nil
}
