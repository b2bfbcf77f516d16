package workers_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	ctd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/leases"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/internal/daemons"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

// binary is name of a default release (the built daemons), else on PATH.
func binary(name string) string {
	for _, c := range daemons.Components() {
		r := daemons.Default(c)
		if p := r.Path(name); p != "" && r.Installed() == nil {
			return p
		}
	}
	return name
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// A buildkitd the test starts itself on a loopback TCP port with TLS
// (client certificates required) runs the cells of two remote workers,
// one given the files, one the directory: the cells pass, talking to
// sb.Address() without certificates, and the daemon was never signalled.
func TestRemoteBuildkitTLS(t *testing.T) {
	pki := newPKI(t)
	root := t.TempDir()
	conf := filepath.Join(root, "buildkitd.toml")
	// The OTEL socket's default is one path for the whole machine.
	if err := os.WriteFile(conf, []byte("[otel]\nsocketPath = \""+filepath.Join(root, "otel.sock")+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, port := startExternal(t, "buildkitd", regexp.MustCompile(`running server on 127\.0\.0\.1:(\d+)`),
		binary("buildkitd"), "--config", conf, "--root", filepath.Join(root, "root"),
		"--addr", "tcp://127.0.0.1:0", "--tlscacert", pki.ca, "--tlscert", pki.serverCert, "--tlskey", pki.serverKey,
		"--oci-worker=true", "--oci-worker-gc=false", "--containerd-worker=false")
	addr := "tcp://127.0.0.1:" + port
	t.Cleanup(func() { d.checkUntouched(t) })
	// A remote worker's cases share one warm backend per cell: the two
	// tests of a cell see the same forwarding socket.
	t.Cleanup(func() {
		seen := map[string]map[string]bool{}
		cellAddrs.Range(func(k, v any) bool {
			cell, _, _ := strings.Cut(k.(string), "@")
			if seen[cell] == nil {
				seen[cell] = map[string]bool{}
			}
			seen[cell][v.(string)] = true
			return true
		})
		if len(seen) != 4 {
			t.Errorf("cells seen: %v, want 4", seen)
		}
		for cell, addrs := range seen {
			if len(addrs) != 1 {
				t.Errorf("cell %s ran on %d backends (%v), want one warm backend", cell, len(addrs), addrs)
			}
		}
	})

	integration.Run(t, integration.TestFuncs(testRemoteSolve, testRemoteBuildctl),
		integration.WithWorkers(
			workers.RemoteBuildkit("farm", addr, workers.WithTLS(workers.TLS{CA: pki.ca, Cert: pki.cert, Key: pki.key})),
			workers.RemoteBuildkit("farm-dir", addr, workers.WithTLSDir(pki.dir)),
		),
		integration.WithAxes(matrix.FromMap("n", map[string]any{"1": 1, "2": 2})))
	// ResetBackend on a remote buildkitd: the second case finds no build
	// cache from the first, on the same warm backend.
	integration.Run(t, resetPair(), integration.WithWorkers(workers.RemoteBuildkit("farm-reset", addr, workers.WithTLSDir(pki.dir))))
}

// resetPair is two cases, one after the other on one warm backend with
// ResetBackend: the first leaves state on the daemon, the second finds
// none of it.
func resetPair() []integration.Test {
	return integration.With(integration.TestFuncs(testRemoteLeave, testRemoteFindNothing), integration.ResetBackend(), integration.Serial())
}

// firstAddress holds the first case's backend address by cell, and
// firstImage, on a containerd, when its image was made.
var firstAddress, firstImage sync.Map

func testRemoteLeave(t *testing.T, sb sandbox.Sandbox) {
	firstAddress.Store(sb.Name(), sb.Address())
	if ns := workers.ContainerdNamespaceOf(sb); ns != "" {
		c := remoteContainerd(t, sb, ns)
		if _, err := c.LeasesService().Create(namespaces.WithNamespace(sb.Context(), ns), leases.WithID("leftover")); err != nil {
			t.Fatal(err)
		}
		// The box's container and image are the other leftovers.
		if out, err := sb.Cmd("true").CombinedOutput(); err != nil {
			t.Fatalf("sb.Cmd: %v\n%s", err, out)
		}
		imgs, err := c.ImageService().List(namespaces.WithNamespace(sb.Context(), ns))
		if err != nil || len(imgs) != 1 {
			t.Fatalf("namespace %s: images %v (%v), want the sandbox's one", ns, imgs, err)
		}
		firstImage.Store(sb.Name(), imgs[0].CreatedAt)
		return
	}
	solveScratch(t, sb)
}

func testRemoteFindNothing(t *testing.T, sb sandbox.Sandbox) {
	if first, _ := firstAddress.Load(sb.Name()); first != sb.Address() {
		t.Fatalf("precondition: the second case ran on %s, not on the first case's warm backend %v", sb.Address(), first)
	}
	if ns := workers.ContainerdNamespaceOf(sb); ns != "" {
		ctx := namespaces.WithNamespace(sb.Context(), ns)
		c := remoteContainerd(t, sb, ns)
		ls, err := c.LeasesService().List(ctx)
		imgs, ierr := c.ImageService().List(ctx)
		cs, cerr := c.Containers(ctx)
		if err != nil || ierr != nil || cerr != nil || len(ls)+len(cs) > 0 {
			t.Errorf("namespace %s after reset: leases %v, containers %d (%v %v %v)", ns, ls, len(cs), err, ierr, cerr)
		}
		// The sandbox's image is there before its first command, as at
		// the backend's start: made again after the wipe removed the
		// first case's.
		made, _ := firstImage.Load(sb.Name())
		if first, ok := made.(time.Time); len(imgs) != 1 || !ok || !imgs[0].CreatedAt.After(first) {
			t.Errorf("namespace %s after reset: images %v, want the sandbox's one, made after the first case's (%v)", ns, imgs, made)
		}
		return
	}
	c, err := client.New(sb.Context(), sb.Address())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	du, err := c.DiskUsage(sb.Context())
	if err != nil || len(du) > 0 {
		t.Errorf("build cache after reset: %d records (%v)", len(du), err)
	}
}

func remoteContainerd(t *testing.T, sb sandbox.Sandbox, ns string) *ctd.Client {
	t.Helper()
	c, err := ctd.New(sb.Address(), ctd.WithDefaultNamespace(ns))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// cellAddrs records sb.Address() by "<cell>@<test>".
var cellAddrs sync.Map

func testRemoteSolve(t *testing.T, sb sandbox.Sandbox) {
	cellAddrs.Store(sb.Name()+"@solve", sb.Address())
	solveScratch(t, sb)
}

// solveScratch solves a file op on sb's BuildKit, without TLS, and checks
// the exported file.
func solveScratch(t *testing.T, sb sandbox.Sandbox) {
	if !strings.HasPrefix(sb.Address(), "unix://") {
		t.Fatalf("sb.Address() = %q, want the sandbox's forwarding socket", sb.Address())
	}
	c, err := client.New(sb.Context(), sb.Address())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	def, err := llb.Scratch().File(llb.Mkfile("/cell", 0o644, []byte(sb.Name()))).Marshal(sb.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(sb.TempDir(), "out")
	if _, err := c.Solve(sb.Context(), def, client.SolveOpt{Exports: []client.ExportEntry{{Type: client.ExporterLocal, OutputDir: out}}}, nil); err != nil {
		t.Fatalf("solve on the remote buildkitd: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(out, "cell")); err != nil || string(b) != sb.Name() {
		t.Fatalf("exported /cell = %q, %v; want %q", b, err, sb.Name())
	}
}

func testRemoteBuildctl(t *testing.T, sb sandbox.Sandbox) {
	cellAddrs.Store(sb.Name()+"@buildctl", sb.Address())
	// BUILDKIT_HOST is the forwarding socket: buildctl needs no TLS flags.
	out, err := sb.Cmd(binary("buildctl"), "debug", "workers").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "linux/") {
		t.Fatalf("buildctl debug workers: %v\n%s", err, out)
	}
}

// A dockerd the test starts itself, on a unix socket and on a loopback TCP
// port with TLS, runs the cells of a remote worker for each address; it
// was never signalled.
func TestRemoteDockerd(t *testing.T) {
	pki := newPKI(t)
	root := t.TempDir()
	short, err := os.MkdirTemp("", "rd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(short) })
	sock := filepath.Join(short, "docker.sock")
	d, port := startExternal(t, "dockerd", regexp.MustCompile(`API listen on 127\.0\.0\.1:(\d+)`),
		"dockerd", "--data-root", filepath.Join(root, "data"), "--exec-root", filepath.Join(short, "x"),
		"--pidfile", filepath.Join(root, "docker.pid"), "--host", "unix://"+sock, "--host", "tcp://127.0.0.1:0",
		"--tlsverify", "--tlscacert", pki.ca, "--tlscert", pki.serverCert, "--tlskey", pki.serverKey,
		"--iptables=false", "--ip-masq=false", "--bridge=none", "--userland-proxy=false")
	t.Cleanup(func() { d.checkUntouched(t) })

	integration.Run(t, integration.TestFuncs(testRemoteDockerAPI),
		integration.WithWorkers(
			workers.RemoteDockerd("docker-unix", "unix://"+sock),
			workers.RemoteDockerd("docker-tls", "tcp://127.0.0.1:"+port, workers.WithTLSDir(pki.dir)),
		))
}

func testRemoteDockerAPI(t *testing.T, sb sandbox.Sandbox) {
	// sb.Address() is the daemon's BuildKit, as on a local dockerd.
	out, err := sb.Cmd(binary("buildctl"), "--addr", sb.Address(), "debug", "workers").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "linux/") {
		t.Fatalf("buildctl debug workers at sb.Address(): %v\n%s", err, out)
	}
	sock, ok := strings.CutPrefix(workers.DockerAddress(sb), "unix://")
	if !ok {
		t.Fatalf("DockerAddress = %q, want a unix socket", workers.DockerAddress(sb))
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	name := "mbx-" + strings.NewReplacer("/", "-", "=", "-").Replace(sb.Name())
	call := func(method, path string, body string) []byte {
		req, err := http.NewRequestWithContext(sb.Context(), method, "http://docker"+path, strings.NewReader(body))
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
			t.Fatalf("%s %s: %s %s", method, path, resp.Status, b)
		}
		return b
	}
	call("POST", "/volumes/create", `{"Name":"`+name+`"}`)
	var vol struct{ Name string }
	if err := json.Unmarshal(call("GET", "/volumes/"+name, ""), &vol); err != nil || vol.Name != name {
		t.Fatalf("volume %s: %+v %v", name, vol, err)
	}
	call("DELETE", "/volumes/"+name, "")
	if _, err := exec.LookPath("docker"); err == nil {
		if out, err := sb.Cmd("docker", "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
			t.Fatalf("docker version through DOCKER_HOST: %v\n%s", err, out)
		}
	}
}

// A containerd the test starts itself runs the cells of a remote worker:
// sb.Cmd runs in a container in a namespace of the backend's own, which is
// gone after the Run with everything in it; the daemon was never
// signalled.
func TestRemoteContainerd(t *testing.T) {
	dir, err := os.MkdirTemp("", "rc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "c.sock")
	conf := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(conf, []byte(`version = 2
root = "`+filepath.Join(dir, "root")+`"
state = "`+filepath.Join(dir, "state")+`"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime", "io.containerd.cri.v1.images", "io.containerd.nri.v1.nri"]
[grpc]
address = "`+sock+`"
`), 0o644); err != nil {
		t.Fatal(err)
	}
	d, _ := startExternal(t, "containerd", regexp.MustCompile(`containerd successfully booted`), binary("containerd"), "--config", conf)
	t.Cleanup(func() {
		d.checkUntouched(t)
		c, err := ctd.New(sock)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		nss, err := c.NamespaceService().List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, ns := range nss {
			if strings.HasPrefix(ns, "matrixbox-") {
				t.Errorf("namespace %s left on the remote containerd", ns)
			}
		}
	})

	// A namespace a dead test process of this host left, with a lease in
	// it, is removed by the first backend that attaches. The pid is past
	// the largest the kernel gives, so that no live process can have it.
	maxPid, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		t.Fatal(err)
	}
	deadPid, err := strconv.Atoi(strings.TrimSpace(string(maxPid)))
	if err != nil {
		t.Fatal(err)
	}
	deadPid++
	host, _ := os.Hostname()
	c, err := ctd.New(sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	stale := "matrixbox-mbx-stale"
	sctx := namespaces.WithNamespace(context.Background(), stale)
	if err := c.NamespaceService().Create(sctx, stale, map[string]string{"matrixbox.owner": host + "/" + strconv.Itoa(deadPid)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.LeasesService().Create(sctx, leases.WithID("left")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		nss, err := c.NamespaceService().List(context.Background())
		if err != nil || slices.Contains(nss, stale) {
			t.Errorf("the namespace of a dead test process was not removed: %v %v", nss, err)
		}
	})
	integration.Run(t, integration.TestFuncs(testRemoteContainerdCmd),
		integration.WithWorkers(workers.RemoteContainerd("ctd", sock)),
		integration.WithAxes(matrix.FromMap("n", map[string]any{"1": 1, "2": 2})))
	// ResetBackend empties the backend's own namespace between cases.
	integration.Run(t, resetPair(), integration.WithWorkers(workers.RemoteContainerd("ctd-reset", sock)))
}

func testRemoteContainerdCmd(t *testing.T, sb sandbox.Sandbox) {
	ns := workers.ContainerdNamespaceOf(sb)
	if !strings.HasPrefix(ns, "matrixbox-mbx-") {
		t.Fatalf("namespace %q, want one of the backend's own", ns)
	}
	out, err := sb.Cmd("sh", "-c", "echo $CONTAINERD_NAMESPACE; cat /proc/1/cmdline").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), ns+"\n") || !strings.Contains(string(out), "sleep") {
		t.Fatalf("sb.Cmd in the box container: %v\n%s", err, out)
	}
	c, err := ctd.New(sb.Address(), ctd.WithDefaultNamespace(ns))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cs, err := c.Containers(sb.Context())
	if err != nil || len(cs) == 0 {
		t.Fatalf("containers in %s: %d, %v; want the box's", ns, len(cs), err)
	}
}
