package integration

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestConfigThatIsNotAFile: a fifo would block the read forever and
// /dev/zero would fill the memory; each is an error naming the path, as
// are a directory and a file over 1 MiB.
func TestConfigThatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", maxConfigSize)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		fifo:        "not a regular file (a named pipe)",
		"/dev/zero": "not a regular file (a character device)",
		dir:         "not a regular file (a directory)",
		big:         "larger than the 1048576 bytes a config file may have",
	} {
		if _, err := LoadConfig(path); err == nil || !strings.Contains(err.Error(), path+": "+want) {
			t.Errorf("LoadConfig(%s) = %v, want %q", path, err, want)
		}
		t.Setenv(EnvConfig, path)
		if _, err := FindConfig("."); err == nil || !strings.Contains(err.Error(), EnvConfig+": config "+path+": "+want) {
			t.Errorf("%s=%s: FindConfig = %v", EnvConfig, path, err)
		}
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
