package buildkittest_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing/fstest"

	"github.com/matrixbox/matrixbox/buildkittest"
)

// VerifyDir (and CheckDir, its testing.TB form) reports every mismatch of
// an exported build result at once.
func ExampleVerifyDir() {
	out, err := os.MkdirTemp("", "result")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(out)
	_ = os.WriteFile(filepath.Join(out, "hi"), []byte("hello\n"), 0o644)
	_ = os.WriteFile(filepath.Join(out, "stray"), nil, 0o644)

	err = buildkittest.VerifyDir(out, fstest.MapFS{
		"hi":           {Data: []byte("hi\n")},
		"etc/app.conf": {Data: []byte("debug=1\n")},
	}, buildkittest.NothingElse())
	fmt.Println(strings.ReplaceAll(err.Error(), out, "OUT"))
	// Output:
	// directory OUT: 3 mismatches:
	// 	etc/app.conf: missing
	// 	hi: content "hello\n", want "hi\n"
	// 	stray: unexpected file
}
