package workers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/internal/box"
	"github.com/matrixbox/matrixbox/sandbox"
)

// foundList is the platform list of a buildkitd's "found worker" line,
// read once its sandbox is closed and the log whole.
func foundList(t *testing.T, b *box.Box) string {
	t.Helper()
	m := foundPlatforms.FindStringSubmatch(b.Logs().Text("buildkitd"))
	if m == nil {
		t.Fatalf("no found-worker line in the log:\n%s", b.Logs().String())
	}
	return m[1]
}

// The later buildkitds of a process are told the platforms the first one
// found, and list the same ones; one whose args name platforms is told
// nothing.
func TestBuildkitdPlatformsRemembered(t *testing.T) {
	buildkitdPlatforms.mu.Lock()
	saved := buildkitdPlatforms.m
	buildkitdPlatforms.m = map[string][]string{}
	savedLogs := buildkitdPlatforms.logs
	buildkitdPlatforms.logs = map[string][]func() string{}
	buildkitdPlatforms.mu.Unlock()
	t.Cleanup(func() {
		buildkitdPlatforms.mu.Lock()
		buildkitdPlatforms.m, buildkitdPlatforms.logs = saved, savedLogs
		buildkitdPlatforms.mu.Unlock()
	})
	first := openBox(t, BuildkitdOCI())
	if conf := first.Logs().Text("buildkitd.toml"); strings.Contains(conf, "platforms") {
		t.Errorf("the first buildkitd was told platforms:\n%s", conf)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	want := foundList(t, first)
	// Both workers of buildkitd default to the platforms it finds.
	for _, w := range []sandbox.Worker{BuildkitdOCI(), BuildkitdContainerd()} {
		next := openBox(t, w)
		conf := next.Logs().Text("buildkitd.toml")
		if err := next.Close(); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(conf, "platforms = [") {
			t.Errorf("%s: a later buildkitd was not told the platforms:\n%s", next.Name(), conf)
		}
		if got := foundList(t, next); got != want {
			t.Errorf("%s: a later buildkitd lists %s, the first found %s", next.Name(), got, want)
		}
	}
	own := openBox(t, BuildkitdOCI(WithArgs("--oci-worker-platform=linux/amd64")))
	if err := own.Close(); err != nil {
		t.Fatal(err)
	}
	if conf := own.Logs().Text("buildkitd.toml"); strings.Contains(conf, "platforms") {
		t.Errorf("a buildkitd with platforms of its own in its args was told others:\n%s", conf)
	}
	if got := foundList(t, own); got != "linux/amd64" {
		t.Errorf("buildkitd with --oci-worker-platform=linux/amd64 lists %s", got)
	}
}

// A change to binfmt_misc is another key.
func TestPlatformKeyFollowsBinfmt(t *testing.T) {
	dir := t.TempDir()
	old := binfmtDir
	binfmtDir = dir
	t.Cleanup(func() { binfmtDir = old })
	entry := filepath.Join(dir, "qemu-aarch64")
	if err := os.WriteFile(entry, []byte("enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	enabled, ok := platformKey("buildkitd", nil)
	if !ok {
		t.Fatal("no key without platform args")
	}
	if again, _ := platformKey("buildkitd", nil); again != enabled {
		t.Error("the same binfmt_misc gives another key")
	}
	if err := os.WriteFile(entry, []byte("disabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if disabled, _ := platformKey("buildkitd", nil); disabled == enabled {
		t.Error("disabling an emulator kept the key")
	}
	if other, _ := platformKey("/opt/buildkitd", nil); other == enabled {
		t.Error("another binary has the same key")
	}
	if _, ok := platformKey("buildkitd", []string{"--oci-worker-platform=linux/amd64"}); ok {
		t.Error("args naming platforms are remembered")
	}
}
