package buildkittest_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing/fstest"
	"time"

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

// Steps, as WithSteps fills them, tell what a build did with each step:
// here a rebuild that took three of a Dockerfile's four instructions from
// the cache.
func ExampleSteps() {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	steps := buildkittest.Steps{
		{Name: "[internal] load build definition from Dockerfile", Started: start, Completed: start},
		{Name: "[1/4] COPY a /a", Cached: true, Started: start, Completed: start},
		{Name: "[2/4] COPY b /b", Cached: true, Started: start, Completed: start},
		{Name: "[3/4] COPY c /c", Cached: true, Started: start, Completed: start},
		{Name: "[4/4] COPY x /x", Started: start, Completed: start.Add(40 * time.Millisecond), Duration: 40 * time.Millisecond},
		{Name: "exporting to client directory", Started: start, Completed: start.Add(time.Second), Duration: time.Second},
	}
	in := steps.Instructions()
	fmt.Printf("%d cached, %d ran\n", len(in.Cached()), len(in.Ran()))
	fmt.Print(in)
	// Output:
	// 3 cached, 1 ran
	// [1/4] COPY a /a: CACHED
	// [2/4] COPY b /b: CACHED
	// [3/4] COPY c /c: CACHED
	// [4/4] COPY x /x: ran 40ms
}
