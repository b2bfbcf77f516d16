package integration

import (
	"crypto/rand"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/sandbox"
)

func init() {
	// A case pulls a blob that was damaged after Ensure, as a daemon would,
	// and fails: Run must say which blob the mirror refused, and why.
	scenarios["mirror-damage"] = func(t *testing.T) {
		dir := os.Getenv("MATRIXBOX_CHILD_DIR")
		rootfs := filepath.Join(dir, "rootfs")
		data := make([]byte, 64<<10)
		rand.Read(data)
		if err := os.MkdirAll(rootfs, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(rootfs, "data"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		m := mirror.New(filepath.Join(dir, "mirror"))
		t.Cleanup(func() { m.Close() })
		Run(t, []Test{NewTest("TestPullDamaged", func(t *testing.T, sb sandbox.Sandbox) {
			p, d := largestBlobFile(t, filepath.Join(dir, "mirror"))
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 0xff
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			resp, err := http.Get("http://" + sb.Mirror() + "/v2/library/damaged/blobs/" + d)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("pull %s: %s", d, resp.Status)
			}
		})}, WithMirror(m), WithMirroredImages(map[string]string{"library/damaged:1": "rootfs:" + rootfs}))
	}
}

// largestBlobFile returns the path and digest of the largest blob in the
// mirror directory dir.
func largestBlobFile(t *testing.T, dir string) (string, string) {
	t.Helper()
	var path string
	var size int64 = -1
	err := filepath.WalkDir(filepath.Join(dir, "registry/docker/registry/v2/blobs/sha256"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "data" {
			return err
		}
		fi, err := d.Info()
		if err == nil && fi.Size() > size {
			path, size = p, fi.Size()
		}
		return err
	})
	if err != nil || path == "" {
		t.Fatalf("no blob in %s: %v", dir, err)
	}
	return path, "sha256:" + filepath.Base(filepath.Dir(path))
}

func TestFailedCaseNamesTheDamagedBlob(t *testing.T) {
	out, ok := runChild(t, "mirror-damage", []string{"MATRIXBOX_CHILD_DIR=" + t.TempDir()})
	if ok {
		t.Fatalf("child passed though its pull was refused:\n%s", out)
	}
	pull := regexp.MustCompile(`pull (sha256:[0-9a-f]{64}): 500`).FindStringSubmatch(out)
	if pull == nil {
		t.Fatalf("the case's pull was not refused with a 500:\n%s", out)
	}
	named := regexp.MustCompile(`matrixbox: blob (sha256:[0-9a-f]{64}) of library/damaged \(\S+\) was damaged: hashes to sha256:`).FindStringSubmatch(out)
	if named == nil || named[1] != pull[1] {
		t.Fatalf("the failing case's log does not name the blob %s the mirror refused:\n%s", pull[1], out)
	}
}
