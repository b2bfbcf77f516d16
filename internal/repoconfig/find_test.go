package repoconfig

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestConfigThatIsNotAFile: a fifo would block the read forever and
// /dev/zero would fill the memory; each is an error naming the path, as
// are a directory and a file over 1 MiB (integration's
// TestRunRefusesAConfigThatIsNotAFile checks a Run fails with it).
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
		if _, err := Load(path); err == nil || !strings.Contains(err.Error(), path+": "+want) {
			t.Errorf("Load(%s) = %v, want %q", path, err, want)
		}
		t.Setenv(Env, path)
		if _, err := Find("."); err == nil || !strings.Contains(err.Error(), Env+": config "+path+": "+want) {
			t.Errorf("%s=%s: Find = %v", Env, path, err)
		}
	}
}
