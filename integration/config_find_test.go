package integration

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestRunRefusesAConfigThatIsNotAFile: a Run given a fifo or /dev/zero as
// its config fails naming it, instead of blocking or filling the memory.
func TestRunRefusesAConfigThatIsNotAFile(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, "/dev/zero"} {
		out, ok := runChild(t, "one", []string{EnvConfig + "=" + path})
		if ok || !strings.Contains(out, "matrixbox: "+EnvConfig+": config "+path+": not a regular file") {
			t.Errorf("%s=%s: passed=%v\n%s", EnvConfig, path, ok, out)
		}
	}
}

// TestRootConfigServesSuitesThatDiffer: one matrixbox.yaml with a platform
// axis and a workers list serves a suite with both workers and a platform
// axis and a suite with neither, in strict mode.
func TestRootConfigServesSuitesThatDiffer(t *testing.T) {
	out, ok := runChild(t, "module", []string{EnvConfig + "=testdata/config/root.yaml"})
	if !ok {
		t.Fatalf("child failed:\n%s", out)
	}
	want := []string{
		"WithPlatforms/TestNothing/worker=second/platform=linux-amd64",
		"WithPlatforms/TestNothing/worker=second/platform=linux-arm64",
		"WithPlatforms/TestNothing/worker=host/platform=linux-amd64",
		"WithPlatforms/TestNothing/worker=host/platform=linux-arm64",
		"HostOnly/TestNothing/worker=host/color=red",
		"HostOnly/TestNothing/worker=host/color=blue",
	}
	var got []string
	for _, name := range runLines(out) {
		if strings.Count(name, "/") == 3 {
			got = append(got, name)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ran\n%s\nwant\n%s\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), out)
	}
	for _, note := range []string{
		"root.yaml:4: axes.platform: not an axis of this Run; ignored",
		"root.yaml:2: workers: second not a worker of this Run (it has host); ignored",
	} {
		if !strings.Contains(out, note) {
			t.Errorf("output lacks %q", note)
		}
	}
}
