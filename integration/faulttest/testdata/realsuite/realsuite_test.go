// Package realsuite is the fixture of the fault tests on real daemons: one
// case per worker (buildkitd-oci, buildkitd-containerd, containerd,
// dockerd on moby 29.8.1 and 20.10, dockerd-containerd, and the rootless
// buildkitd-oci-rootless and buildkitd-containerd-rootless) that puts work in
// flight — a RUN step that sleeps, a container that sleeps — and then
// does what FAULT says, while the parent injects its fault. It writes what
// the parent checks to $FAULT_DIR. It lives under testdata so go test
// ./... does not run it on its own.
package realsuite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/internal/box"
	"github.com/matrixbox/matrixbox/internal/supervise"
	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

func TestInFlight(t *testing.T) {
	integration.Run(t, isolated(integration.TestFuncs(testInFlight)), runOptions()...)
}

// TestTwoRuns runs two Runs one after the other, each a case that notes
// the pids of its backend's daemons: with a warm isolation level, both
// find the same daemons.
func TestTwoRuns(t *testing.T) {
	for _, run := range []string{"first", "second"} {
		t.Run(run, func(t *testing.T) {
			integration.Run(t, isolated(integration.TestFuncs(testNoteDaemons)), runOptions()...)
		})
	}
}

func runOptions() []integration.Option {
	return []integration.Option{
		integration.WithWorkers(workers.BuildkitdOCI(), workers.BuildkitdContainerd(), workers.Containerd(),
			workers.Dockerd(workers.WithVersions(workers.MobyAxis, "v29.8.1", "v20.10")), workers.DockerdContainerd(),
			workers.BuildkitdOCI(workers.WithRootless()), workers.BuildkitdContainerd(workers.WithRootless())),
		integration.WithMirror(mirror.Shared()),
		integration.WithMirroredImages(map[string]string{"library/busybox:latest": "recipe:busybox"}),
	}
}

// isolated gives tests the isolation level FAULT_ISOLATION names: fresh
// (the default), reset or shared.
func isolated(tests []integration.Test) []integration.Test {
	switch os.Getenv("FAULT_ISOLATION") {
	case "reset":
		return integration.With(tests, integration.ResetBackend())
	case "shared":
		return integration.With(tests, integration.SharedBackend())
	}
	return tests
}

func testNoteDaemons(t *testing.T, sb sandbox.Sandbox) {
	note("owner", fmt.Sprint(os.Getpid()))
	noteDaemons(sb)
}

// noteDaemons writes "<name> <pid>" to $FAULT_DIR/daemons for each daemon
// of the case's backend: the processes carrying the backend's directory,
// the one its address is under, as their sandbox marker.
func noteDaemons(sb sandbox.Sandbox) {
	addr := strings.TrimPrefix(sb.Address(), "unix://")
	dir, _, ok := strings.Cut(addr, "/b/")
	if !ok {
		return
	}
	note("backends", dir)
	want := "\x00" + supervise.EnvMarker + "=" + dir + "\x00"
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || !strings.Contains("\x00"+string(env), want) {
			continue
		}
		cl, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if name, _, _ := strings.Cut(string(cl), "\x00"); name != "" {
			note("daemons", filepath.Base(name)+" "+e.Name())
		}
	}
}

// token is the sleep duration of the work in flight: a number no other
// process on the machine sleeps for, so the parent can look for it.
func token() string { return os.Getenv("FAULT_TOKEN") }

func testInFlight(t *testing.T, sb sandbox.Sandbox) {
	note("owner", fmt.Sprint(os.Getpid()))
	bx := sb.(*box.Box)
	note("dirs", bx.Dir())
	if g := bx.Group(); g != nil {
		note("groups", g.Name())
	}
	worker, _ := sb.Value(integration.WorkerAxis).(string)
	switch worker {
	case "buildkitd-oci", "buildkitd-containerd", "buildkitd-oci-rootless", "buildkitd-containerd-rootless":
		runStep(t, sb)
	case "containerd":
		if err := sb.Cmd("sleep", token()).Start(); err != nil {
			t.Fatal(err)
		}
	case "dockerd", "dockerd-containerd":
		dockerRun(t, sb)
	default:
		t.Fatalf("no work in flight for worker %q", worker)
	}
	waitForToken(t)
	if g := bx.Group(); g != nil {
		for _, p := range g.Procs() {
			note("pids", fmt.Sprint(p.Pid))
		}
	}
	noteDaemons(sb)
	// The containerd shims' sockets and tasks, which daemons keep under
	// /run: the test checks that none of it is the machine's.
	backend := bx.Dir()
	if dirs := readLines("backends"); len(dirs) > 0 {
		backend = dirs[len(dirs)-1]
	}
	for _, pat := range []string{"bootstrap.json", "address"} {
		files, _ := filepath.Glob(filepath.Join(backend, "b", "*", "*", "io.containerd.runtime.v2.task", "*", "*", pat))
		more, _ := filepath.Glob(filepath.Join(backend, "b", "*", "*", "*", "io.containerd.runtime.v2.task", "*", "*", pat))
		for _, f := range append(files, more...) {
			note("tasks", filepath.Base(filepath.Dir(f)))
			b, _ := os.ReadFile(f)
			if i := strings.Index(string(b), "/run/containerd/s/"); i >= 0 {
				sock, _, _ := strings.Cut(strings.TrimSpace(string(b)[i:]), `"`)
				note("sockets", sock)
			}
		}
	}
	note("ready", sb.Name())
	switch os.Getenv("FAULT") {
	case "hang":
		time.Sleep(time.Hour)
	case "wait":
		// As a test waiting on its work does: until its context ends.
		select {
		case <-sb.Context().Done():
		case <-time.After(5 * time.Minute):
			t.Error("FAULT=wait: the sandbox's context did not end")
		}
	case "exit":
		os.Exit(3)
	case "kill-daemon":
		killDaemon(t, bx, worker)
	case "fail":
		t.Error("FAULT=fail: the case fails, for MATRIXBOX_KEEP to keep its sandbox")
	}
}

// runStep starts a Dockerfile build whose RUN step sleeps, with buildctl
// from the sandbox.
func runStep(t *testing.T, sb sandbox.Sandbox) {
	dir := filepath.Join(sb.TempDir(), "ctx")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	df := "FROM busybox\nRUN sleep " + token() + "\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := sb.Cmd("buildctl", "--addr", sb.Address(), "build", "--frontend", "dockerfile.v0",
		"--local", "context="+dir, "--local", "dockerfile="+dir)
	out := sb.Logs().Writer("buildctl")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
}

// dockerRun starts a container that sleeps, through dockerd's API.
func dockerRun(t *testing.T, sb sandbox.Sandbox) {
	host := ""
	for _, kv := range sb.Cmd("true").Env {
		if v, ok := strings.CutPrefix(kv, "DOCKER_HOST="); ok {
			host = v
		}
	}
	sock, ok := strings.CutPrefix(host, "unix://")
	if !ok {
		t.Fatalf("DOCKER_HOST=%q is not a unix socket", host)
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	call := func(method, path string, body any) []byte {
		var r io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			r = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(sb.Context(), method, "http://docker"+path, r)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %s: %s", method, path, resp.Status, b)
		}
		return b
	}
	call("POST", "/images/create?"+url.Values{"fromImage": {"docker.io/library/busybox"}, "tag": {"latest"}}.Encode(), nil)
	var created struct{ ID string }
	b := call("POST", "/containers/create", map[string]any{
		"Image": "busybox", "Cmd": []string{"sleep", token()},
		"HostConfig": map[string]any{"NetworkMode": "none"},
	})
	if err := json.Unmarshal(b, &created); err != nil || created.ID == "" {
		t.Fatalf("create: %v %s", err, b)
	}
	call("POST", "/containers/"+created.ID+"/start", nil)
}

// waitForToken waits until the work's sleep runs somewhere on the machine.
func waitForToken(t *testing.T) {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
			if err == nil && string(b) == "sleep\x00"+token()+"\x00" {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the work in flight (sleep %s) never started", token())
}

// killDaemon SIGKILLs the backend's daemon (buildkitd, containerd,
// dockerd) while the work runs: the case must then fail naming the crash,
// and the container must not survive it.
func killDaemon(t *testing.T, bx *box.Box, worker string) {
	name := map[string]string{"buildkitd-oci": "buildkitd", "buildkitd-containerd": "buildkitd", "containerd": "containerd", "dockerd": "dockerd", "dockerd-containerd": "dockerd",
		"buildkitd-oci-rootless": "buildkitd", "buildkitd-containerd-rootless": "buildkitd"}[worker]
	for _, p := range bx.Group().Procs() {
		if strings.HasSuffix(strings.Fields(p.Cmdline)[0], "/"+name) {
			if err := syscall.Kill(p.Pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			note("killed", fmt.Sprint(p.Pid))
			return
		}
	}
	t.Fatalf("no %s in the sandbox's cgroup", name)
}

func readLines(file string) []string {
	b, _ := os.ReadFile(filepath.Join(os.Getenv("FAULT_DIR"), file))
	return strings.Fields(string(b))
}

func note(file, line string) {
	dir := os.Getenv("FAULT_DIR")
	if dir == "" {
		return
	}
	f, err := os.OpenFile(filepath.Join(dir, file), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err == nil {
		fmt.Fprintln(f, line)
		f.Close()
	}
}
