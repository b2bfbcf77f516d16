package suite

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// StandIns are the images BuildKit's suites pull that cannot be had
// offline, each with the offline image both harnesses get in its place
// (keys as the suites name the images). Tests that depend on what the real
// image holds fail on both.
var StandIns = map[string]string{
	"alpine:latest":                       "recipe:busybox",
	"busybox:stable-musl":                 "recipe:busybox",
	"amd64/debian:bullseye-20230109-slim": "recipe:busybox",
	"tonistiigi/hellofs:latest":           "recipe:busybox",
	"tonistiigi/test:nolayers":            "recipe:busybox",
	"cpuguy83/buildkit-foreign:latest":    "recipe:busybox",
}

// Crashers are tests that kill the test binary on both harnesses (a panic
// in a goroutine of their own, which no harness can recover), by suite,
// with the reason. They are left out of every run, with -test.skip, so
// that the rest of the suite runs.
var Crashers = map[string]map[string]string{
	"dockerfile": {
		"TestProvenanceAttestation":          layerOneCrash,
		"TestGitProvenanceAttestationSHA1":   layerOneCrash,
		"TestGitProvenanceAttestationSHA256": layerOneCrash,
		"TestMultiPlatformProvenance":        layerOneCrash,
		"TestClientFrontendProvenance":       layerOneCrash,
		"TestSecretSSHProvenance":            layerOneCrash,
	},
}

// layerOneCrash is why the provenance tests above crash here.
const layerOneCrash = "reads the file its RUN step made from img.Layers[1], assuming a one-layer busybox; the recipe's busybox has another layer count, so it dereferences a nil file: a panic that kills BuildKit's test binary, and matrixbox's too where it happens in a subtest of the test's own"

// skipPattern is the -test.skip pattern of a suite's crashers, "" when none.
func skipPattern(suite string) string {
	names := slices.Sorted(maps.Keys(Crashers[suite]))
	if len(names) == 0 {
		return ""
	}
	return "/^(" + strings.Join(names, "|") + ")$"
}

// MirrorImages are the images both harnesses find in their mirror, by the
// names the suites mirror them under: busybox from matrixbox's recipe, the
// rest from their stand-ins.
func MirrorImages() map[string]string {
	m := map[string]string{"library/busybox:latest": "recipe:busybox"}
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
	return "MATRIXBOX_COMPAT_STANDINS=" + strings.Join(entries, ",")
}

// keptMatrixboxEnv are the matrixbox variables a suite run keeps from the
// caller; the others (selection, shards, parallelism, ...) would make the
// two harnesses run differently.
var keptMatrixboxEnv = []string{"MATRIXBOX_BIN", "MATRIXBOX_MIRROR_DIR", "MATRIXBOX_COMPAT_ISOLATION", "MATRIXBOX_LOGS", "MATRIXBOX_WATCHDOG", "MATRIXBOX_REPORT"}

// droppedEnv are BuildKit harness variables that change which workers or
// tests run.
var droppedEnv = []string{"BUILDKIT_REGISTRY_MIRROR_DIR", "BUILDKIT_WORKER_RANDOM", "SKIP_INTEGRATION_TESTS", "TEST_DOCKERD",
	"BUILDKIT_TEST_ENABLE_FEATURES", "BUILDKIT_TEST_DISABLE_FEATURES", "BUILDKIT_INTEGRATION_ROOTLESS_IDPAIR", "BUILDKIT_INTEGRATION_SNAPSHOTTER",
	"BUILDKIT_INTEGRATION_CONTAINERD_EXTRA", "FRONTEND_BUILTIN_ONLY", "FRONTEND_CLIENT_ONLY", "FRONTEND_GATEWAY_ONLY"}

// Env is the environment of a run on harness h, from base (the caller's):
// matrixbox gets the stand-ins; BuildKit's harness gets bin (matrixbox's
// built buildkitd, containerd, shim and registry) first on PATH, so both
// run the same daemons, and its mirror directory.
func Env(h Harness, base []string, bin, buildkitMirror string) []string {
	var env []string
	for _, kv := range base {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "MATRIXBOX_") && !slices.Contains(keptMatrixboxEnv, k),
			slices.Contains(droppedEnv, k):
			continue
		case k == "PATH" && h == Buildkit:
			kv = "PATH=" + bin + string(os.PathListSeparator) + v
		}
		env = append(env, kv)
	}
	if h == Matrixbox {
		return append(env, standInsEnv(), "MATRIXBOX_CONFIG=none")
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
