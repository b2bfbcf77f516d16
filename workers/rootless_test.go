package workers_test

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/buildkittest"
	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/internal/daemons"
	"github.com/matrixbox/matrixbox/internal/supervise"
	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

// TestRootlessBuild builds a Dockerfile with a RUN step on each rootless
// worker and proves it ran rootless: every process of the backend runs as
// the unprivileged user, buildkitd is root only of a user namespace that
// maps it to that user, and the RUN step's root is no root of the host.
func TestRootlessBuild(t *testing.T) {
	integration.Run(t, integration.TestFuncs(testRootlessBuild),
		integration.WithWorkers(workers.BuildkitdOCI(workers.WithRootless()), workers.BuildkitdContainerd(workers.WithRootless())),
		integration.WithMirror(mirror.Shared()),
		integration.WithMirroredImages(map[string]string{"library/busybox:latest": "recipe:busybox"}))
}

func testRootlessBuild(t *testing.T, sb sandbox.Sandbox) {
	u, err := user.Lookup(daemons.RootlessUser)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)

	out := buildkittest.Dockerfile(t, sb, "FROM busybox\nRUN id -u > /uid && cat /proc/self/uid_map > /uid_map\n", nil)
	if b, err := os.ReadFile(filepath.Join(out, "uid")); err != nil || strings.TrimSpace(string(b)) != "0" {
		t.Errorf("the RUN step ran as uid %q (%v), want 0 of its user namespace", b, err)
	}
	b, err := os.ReadFile(filepath.Join(out, "uid_map"))
	if err != nil {
		t.Fatal(err)
	}
	if host, ok := mapOf(string(b))[0]; !ok || host == 0 {
		t.Errorf("the RUN step's root is the host's root; its uid_map:\n%s", b)
	}

	// The daemons of this sandbox carry its marker, the sandbox directory.
	procs := supervise.ProcessesWithEnv(supervise.EnvMarker, filepath.Dir(sb.TempDir()))
	var buildkitd []supervise.Proc
	for _, p := range procs {
		if st := procUID(t, p.Pid); st != uid {
			t.Errorf("process %d (%s) runs as uid %d, not as %s (uid %d)", p.Pid, p.Cmdline, st, daemons.RootlessUser, uid)
		}
		if strings.Contains(strings.Fields(p.Cmdline)[0], "buildkitd") {
			buildkitd = append(buildkitd, p)
		}
	}
	if len(buildkitd) != 1 {
		t.Fatalf("want one buildkitd among the sandbox's processes, found %d: %v", len(buildkitd), procs)
	}
	// Read from the host: uid 0 of buildkitd's namespace is the user.
	b, err = os.ReadFile("/proc/" + strconv.Itoa(buildkitd[0].Pid) + "/uid_map")
	if err != nil {
		t.Fatal(err)
	}
	if m := mapOf(string(b)); m[0] != uid {
		t.Errorf("buildkitd's uid 0 is uid %d of the host, want %d (%s); its uid_map:\n%s", m[0], uid, daemons.RootlessUser, b)
	}
}

// mapOf reads a uid_map: the host id of each id inside that starts a line.
func mapOf(uidMap string) map[int]int {
	m := map[int]int{}
	for _, l := range strings.Split(strings.TrimSpace(uidMap), "\n") {
		if f := strings.Fields(l); len(f) == 3 {
			in, _ := strconv.Atoi(f[0])
			out, _ := strconv.Atoi(f[1])
			m[in] = out
		}
	}
	return m
}

// procUID is the real uid of pid.
func procUID(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "Uid:"); ok {
			n, _ := strconv.Atoi(strings.Fields(rest)[0])
			return n
		}
	}
	t.Fatalf("no Uid in /proc/%d/status", pid)
	return -1
}
