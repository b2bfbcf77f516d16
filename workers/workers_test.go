package workers

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	ctd "github.com/containerd/containerd/v2/client"

	"github.com/matrixbox/matrixbox/internal/box"
	"github.com/matrixbox/matrixbox/internal/daemons"
	"github.com/matrixbox/matrixbox/internal/supervise"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
)

func daemonWorkers() []sandbox.Worker {
	return []sandbox.Worker{
		BuildkitdOCI(),
		BuildkitdContainerd(),
		Containerd(),
		Containerd(WithBinary("/usr/bin/containerd"), WithName("containerd-1.6")),
		Dockerd(),
		at(Dockerd(WithName("dockerd-20.10")), "moby=v20.10"),
		DockerdContainerd(),
	}
}

// openBox opens a sandbox on w directly (no integration.Run), so that the
// test sees Close's error itself.
func openBox(t *testing.T, w sandbox.Worker) *box.Box {
	t.Helper()
	if c, ok := w.(sandbox.Checker); ok {
		if err := c.Check(); err != nil {
			t.Skipf("worker %s unavailable: %v", w.Name(), err)
		}
	}
	cells, err := matrix.Expand(matrix.Strings("worker", w.Name()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := box.Open(context.Background(), box.Spec{Config: sandbox.Config{Cell: cells[0]}, Worker: w})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Logf("%s started in %s", w.Name(), b.Startup().Round(time.Millisecond))
	return b
}

// leftovers lists what a closed sandbox left behind: a process in its
// cgroup (daemon, shim, runc, container), its cgroup, a mount under its
// directory, the directory.
func leftovers(b *box.Box) []string {
	var out []string
	if g := b.Group(); g != nil {
		for _, p := range g.Procs() {
			out = append(out, "process "+p.Cmdline)
		}
		for _, c := range g.Remains() {
			out = append(out, "cgroup "+c)
		}
	}
	for _, m := range supervise.MountsUnder(b.Dir()) {
		out = append(out, "mount "+m)
	}
	if _, err := os.Stat(b.Dir()); err == nil {
		out = append(out, "dir "+b.Dir())
	}
	return out
}

func TestWorkerLifecycle(t *testing.T) {
	for _, w := range daemonWorkers() {
		t.Run(w.Name(), func(t *testing.T) {
			b := openBox(t, w)
			closed := false
			defer func() {
				if !closed {
					_ = b.Close()
				}
				if t.Failed() {
					t.Log(b.Logs().String())
				}
			}()
			if !strings.Contains(b.Logs().String(), "ready after") {
				t.Errorf("start time not in the logs:\n%s", b.Logs().String())
			}
			checkAddress(t, b)
			checkCmdEnv(t, b)
			checkNoFirewall(t, b)
			closed = true
			br := ""
			if d, ok := b.Backend().(*dockerdBackend); ok {
				br = d.bridge
			}
			if err := b.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if l := leftovers(b); len(l) > 0 {
				t.Errorf("left behind after Close: %v", l)
			}
			if _, err := net.InterfaceByName(br); br != "" && err == nil {
				t.Errorf("bridge %s left behind after Close", br)
			}
		})
	}
}

// firewallCall is how dockerd --debug logs a call of iptables or
// ip6tables: `/usr/sbin/ip6tables, [--wait -t nat -N DOCKER]`.
var firewallCall = regexp.MustCompile(`ip6?tables, \[[^\]]*\]`)

// checkNoFirewall: a dockerd leaves the host's firewall alone; it would
// change it in the host's network namespace, for every process.
func checkNoFirewall(t *testing.T, b *box.Box) {
	t.Helper()
	if _, ok := b.Backend().(*dockerdBackend); !ok {
		return
	}
	if calls := firewallCall.FindAllString(b.Logs().String(), 5); len(calls) > 0 {
		t.Errorf("dockerd ran the host's firewall tools: %s", strings.Join(calls, "; "))
	}
}

// checkAddress talks to the backend at sb.Address() with its own client.
func checkAddress(t *testing.T, b *box.Box) {
	t.Helper()
	addr := b.Address()
	// containerd's address is its socket's path, as containerd's client
	// takes it; BuildKit's and Docker's are unix:// URLs.
	want := "unix:///"
	if strings.HasPrefix(b.Name(), "worker=containerd") {
		want = "/"
	}
	if !strings.HasPrefix(addr, want) {
		t.Fatalf("Address() = %q, want %s...", addr, want)
	}
	sock := strings.TrimPrefix(addr, "unix://")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	switch {
	case strings.HasPrefix(b.Name(), "worker=buildkitd"), strings.HasPrefix(b.Name(), "worker=dockerd"):
		buildctl, err := lookBinary("buildctl")
		if err != nil {
			t.Fatal(err)
		}
		out, err := b.Cmd(buildctl, "--addr", addr, "debug", "workers").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "linux/") {
			t.Fatalf("buildctl debug workers: %v\n%s", err, out)
		}
		t.Logf("buildctl debug workers:\n%s", out)
		if strings.HasPrefix(b.Name(), "worker=dockerd") {
			checkDockerAPI(ctx, t, b)
		}
	case strings.HasPrefix(b.Name(), "worker=containerd"):
		c, err := ctd.New(sock)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		v, err := c.Version(ctx)
		if err != nil {
			t.Fatalf("containerd version: %v", err)
		}
		t.Logf("containerd %s", v.Version)
		if b.Name() == "worker=containerd" && !strings.HasPrefix(v.Version, "v2.") && !strings.HasPrefix(v.Version, "2.") {
			t.Errorf("default containerd is %s, not 2.x, the default release's", v.Version)
		}
	default:
		t.Fatalf("no address check for %s", b.Name())
	}
}

// checkDockerAPI talks to the Docker API of a dockerd sandbox, found by
// DockerAddress.
func checkDockerAPI(ctx context.Context, t *testing.T, b *box.Box) {
	t.Helper()
	addr := DockerAddress(b)
	if !strings.HasPrefix(addr, "unix:///") || addr == b.Address() {
		t.Fatalf("DockerAddress = %q (BuildKit's is %q), want a unix socket of its own", addr, b.Address())
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", strings.TrimPrefix(addr, "unix://"))
	}}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker/version", nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct{ Version string }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.Version == "" {
		t.Fatalf("docker /version: %v %+v", err, v)
	}
	t.Logf("dockerd %s", v.Version)
	// An HTTP/1 request on the BuildKit socket passes through to the
	// Docker API (the /session upgrade goes this way).
	bk := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", strings.TrimPrefix(b.Address(), "unix://"))
	}}}
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, "http://docker/_ping", nil)
	resp, err = bk.Do(req)
	if err != nil {
		t.Fatalf("/_ping through the BuildKit socket: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/_ping through the BuildKit socket: %s", resp.Status)
	}
}

// checkCmdEnv runs a shell through sb.Cmd: it must see the cell and the
// backend's variables, run in TempDir, and, for containerd, run inside the
// container.
func checkCmdEnv(t *testing.T, b *box.Box) {
	t.Helper()
	want := map[string]string{"MATRIXBOX_CELL": b.Name()}
	for _, kv := range b.Backend().(sandbox.Enver).Env() {
		k, v, _ := strings.Cut(kv, "=")
		want[k] = v
	}
	var script strings.Builder
	for k := range want {
		script.WriteString("echo " + k + "=$" + k + ";")
	}
	script.WriteString("echo PWD=$(pwd); echo hello > from-cmd; tr '\\0' ' ' < /proc/1/cmdline; echo")
	out, err := b.Cmd("sh", "-c", script.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("sb.Cmd: %v\n%s", err, out)
	}
	got := map[string]string{}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for _, l := range lines {
		if k, v, ok := strings.Cut(l, "="); ok {
			got[k] = v
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("sb.Cmd sees %s=%q, want %q", k, got[k], v)
		}
	}
	if got["PWD"] != b.TempDir() {
		t.Errorf("sb.Cmd ran in %q, want %q", got["PWD"], b.TempDir())
	}
	if data, err := os.ReadFile(filepath.Join(b.TempDir(), "from-cmd")); err != nil || string(data) != "hello\n" {
		t.Errorf("file written by sb.Cmd not in TempDir: %v %q", err, data)
	}
	pid1 := lines[len(lines)-1]
	_, inContainer := b.Backend().(sandbox.Commander)
	if inContainer != strings.HasPrefix(pid1, "sleep ") {
		t.Errorf("pid 1 of sb.Cmd is %q; in a container: %v", pid1, inContainer)
	}
}

// TestWorkerDaemonKilled kills each worker's daemon in the middle of a
// test: closing the sandbox must fail with the exit reason and the daemon's
// log, and leave nothing behind.
func TestWorkerDaemonKilled(t *testing.T) {
	for _, w := range daemonWorkers() {
		t.Run(w.Name(), func(t *testing.T) {
			b := openBox(t, w)
			if _, ok := b.Backend().(sandbox.Commander); ok {
				// A running container: its shim must not outlive the
				// killed containerd.
				if out, err := b.Cmd("true").CombinedOutput(); err != nil {
					_ = b.Close()
					t.Fatalf("sb.Cmd: %v\n%s", err, out)
				}
			}
			p := backendOf(b).procs[0]
			if err := syscall.Kill(p.Pid(), syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-p.Done()
			err := b.Close()
			if err == nil {
				t.Fatal("Close of a sandbox whose daemon was killed succeeded")
			}
			msg := err.Error()
			t.Logf("Close reported:\n%.600s", msg)
			for _, want := range []string{p.Name() + " had already exited: signal: killed", "----- log of " + p.Name(), "matrixbox: starting"} {
				if !strings.Contains(msg, want) {
					t.Errorf("Close error lacks %q:\n%s", want, msg)
				}
			}
			if l := leftovers(b); len(l) > 0 {
				t.Errorf("left behind after Close: %v", l)
			}
		})
	}
}

func backendOf(b *box.Box) *backend {
	switch be := b.Backend().(type) {
	case *backend:
		return be
	case *containerBackend:
		return &be.backend
	case *dockerdBackend:
		return &be.backend
	}
	panic("unknown backend")
}

func TestWorkerMissingBinary(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("PATH", empty)
	t.Setenv(daemons.EnvBin, empty)
	for _, w := range daemonWorkers() {
		err := w.(sandbox.Checker).Check()
		if err == nil {
			t.Errorf("%s: Check passed with an empty PATH", w.Name())
			continue
		}
		if !strings.Contains(err.Error(), "is not installed") && !strings.Contains(err.Error(), "not found in PATH") ||
			!strings.Contains(err.Error(), "cmd/matrixbox install") && !strings.Contains(err.Error(), "apt-get install") {
			t.Errorf("%s: Check error gives no install hint: %v", w.Name(), err)
		}
		t.Logf("%s: %v", w.Name(), err)
	}
}
