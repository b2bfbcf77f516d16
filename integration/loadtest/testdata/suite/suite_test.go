// Package suite is the fixture the load test runs as three child go test
// processes at once: LOAD_CASES (default 200) trivial tests on the host and
// containerd workers, with recipe:busybox ensured in the shared mirror. Every
// tenth test gets a fresh backend; the others share a warm one per worker,
// so both paths run under load (a fresh containerd for all 600 containerd
// cases of three processes would take a quarter of an hour on two cores).
// It writes its mirror statistics as JSON to $LOAD_STATS. It lives under
// testdata so that go test ./... does not run it on its own.
package suite

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

func TestLoad(t *testing.T) {
	n := 200
	if s := os.Getenv("LOAD_CASES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			t.Fatalf("LOAD_CASES=%q: want a positive number", s)
		}
	}
	m := mirror.Shared()
	t.Cleanup(func() {
		// Cleanups run after every case, when the mirror has done all it will.
		if p := os.Getenv("LOAD_STATS"); p != "" {
			b, _ := json.Marshal(m.Stats())
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Error(err)
			}
		}
	})
	tests := make([]integration.Test, 0, n)
	for i := range n {
		var opts []integration.TestOption
		if i%10 != 0 {
			opts = append(opts, integration.SharedBackend())
		}
		tests = append(tests, integration.NewTest(fmt.Sprintf("TestEcho%03d", i), func(t *testing.T, sb sandbox.Sandbox) {
			want := fmt.Sprintf("case %d", i)
			out, err := sb.Cmd("echo", want).CombinedOutput()
			if err != nil {
				t.Fatalf("echo: %v\n%s", err, out)
			}
			if got := strings.TrimSpace(string(out)); got != want {
				t.Fatalf("echo printed %q, want %q", got, want)
			}
		}, opts...))
	}
	integration.Run(t, tests,
		integration.WithWorkers(workers.Host(), workers.Containerd()),
		integration.WithMirror(m),
		integration.WithMirroredImages(map[string]string{"library/busybox:latest": "recipe:busybox"}))
}
