package integration

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/internal/compatopt"
	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/sandbox"
)

func init() {
	// Another suite mirrored an image into the shared directory; this
	// Run pulls it without declaring it. One case passes (as where the
	// image's own registry answers after the mirror's refusal), one fails
	// (as where it does not).
	scenarios["mirror-undeclared"] = func(t *testing.T) {
		m, pull := undeclared(t)
		Run(t, []Test{
			NewTest("TestPullsFromElsewhere", func(t *testing.T, sb sandbox.Sandbox) { pull(t, sb) }),
			NewTest("TestPullFails", func(t *testing.T, sb sandbox.Sandbox) {
				if code := pull(t, sb); code != http.StatusOK {
					t.Errorf("pull: %d", code)
				}
			}, Serial()),
		}, WithMirror(m), WithMirroredImages(map[string]string{"library/declared:1": "rootfs:" + t.TempDir()}))
	}
	// The passing case under compat's rule (BuildKit's harness's).
	scenarios["mirror-undeclared-logged"] = func(t *testing.T) {
		m, pull := undeclared(t)
		Run(t, []Test{
			NewTest("TestPullsFromElsewhere", func(t *testing.T, sb sandbox.Sandbox) { pull(t, sb) }),
		}, WithMirror(m), WithMirroredImages(map[string]string{"library/declared:1": "rootfs:" + t.TempDir()}),
			compatopt.LogRefusals.(Option))
	}
}

// undeclared returns a mirror over a directory where another suite put
// library/hidden:1, and a pull of that image through the sandbox's mirror.
func undeclared(t *testing.T) (*mirror.Mirror, func(t *testing.T, sb sandbox.Sandbox) int) {
	dir := filepath.Join(os.Getenv("MATRIXBOX_CHILD_DIR"), "mirror")
	other := mirror.New(dir)
	if err := other.Ensure(context.Background(), map[string]string{"library/hidden:1": "rootfs:" + t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	other.Close()
	m := mirror.New(dir)
	t.Cleanup(func() { m.Close() })
	return m, func(t *testing.T, sb sandbox.Sandbox) int {
		resp, err := http.Get("http://" + sb.Mirror() + "/v2/library/hidden/manifests/1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
}

// An image no Run of the process declared is refused by the mirror even
// where another suite put it in the shared directory (issue 22, item 6):
// the Run fails naming the image and WithMirroredImages, whether or not
// its cases passed, and the case that failed names it in its log.
func TestUndeclaredImageFailsTheRun(t *testing.T) {
	out, ok := runChild(t, "mirror-undeclared", []string{"MATRIXBOX_CHILD_DIR=" + t.TempDir()})
	if ok {
		t.Fatalf("the Run passed though it pulled an image it never declared:\n%s", out)
	}
	for _, want := range []string{
		"--- PASS: TestChild/TestPullsFromElsewhere",
		"--- FAIL: TestChild/TestPullFails",
		"matrixbox: the mirror refused docker.io/library/hidden:1",
		"during this Run the mirror refused docker.io/library/hidden:1",
		"integration.WithMirroredImages",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// Under compatopt.LogRefusals (the compat layer's Runs) a refusal is
// logged at the Run's end and fails nothing: the Run whose case passed
// passes. (A failing case names it in its log as before.)
func TestUndeclaredImageLoggedUnderCompat(t *testing.T) {
	out, ok := runChild(t, "mirror-undeclared-logged", []string{"MATRIXBOX_CHILD_DIR=" + t.TempDir()})
	if !ok {
		t.Fatalf("the Run failed though its only case passed:\n%s", out)
	}
	for _, want := range []string{
		"--- PASS: TestChild/TestPullsFromElsewhere",
		"during this Run the mirror refused docker.io/library/hidden:1",
		"(logged, not failed: BuildKit's harness has no such rule)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
