// Package quickstart is the smallest matrixbox suite: two tests, two axes,
// the host worker. Run it with
//
//	go test ./examples/quickstart -v
//
// and pick cells with -run 'TestQuickstart/TestEcho/worker=host/lang=go' or
// MATRIXBOX_SELECT='lang=go,size=l'.
package quickstart

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
)

func TestQuickstart(t *testing.T) {
	integration.Run(t, integration.TestFuncs(testEcho, testWriteFile),
		// A map axis: values sorted by name, each carrying a typed value.
		integration.WithAxes(matrix.FromMap("lang", map[string]any{"go": ".go", "rust": ".rs"})),
		// An ordered axis of plain strings.
		integration.WithAxes(matrix.Strings("size", "s", "l")),
	)
}

// testEcho runs a command in the sandbox: the cell's values are in its
// environment.
func testEcho(t *testing.T, sb sandbox.Sandbox) {
	out, err := sb.Cmd("sh", "-c", `echo "$MATRIXBOX_CELL size=$MATRIXBOX_AXIS_SIZE"`).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := sb.Name() + " size=" + sb.Value("size").(string)
	if got := strings.TrimSpace(string(out)); got != want {
		t.Fatalf("command printed %q, want %q", got, want)
	}
}

// testWriteFile uses the typed value and the sandbox's private directory.
func testWriteFile(t *testing.T, sb sandbox.Sandbox) {
	ext := sb.Value("lang").(string)
	p := filepath.Join(sb.TempDir(), "main"+ext)
	if err := os.WriteFile(p, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := sb.Cmd("cat", "main"+ext).Output()
	if err != nil || string(out) != "hello\n" {
		t.Fatalf("cat main%s in %s: %q, %v", ext, sb.TempDir(), out, err)
	}
}
