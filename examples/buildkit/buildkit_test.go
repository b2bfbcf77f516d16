package buildkit

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/tonistiigi/fsutil"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

func TestBuildkit(t *testing.T) {
	integration.Run(t, integration.TestFuncs(testLLBScratch, testDockerfileScratch, testLLBBusyboxRun, testDockerfileBusyboxRun),
		integration.WithWorkers(workers.BuildkitdOCI(), workers.BuildkitdContainerd(), workers.Dockerd()),
		integration.WithMirror(mirror.Shared()),
		integration.WithMirroredImages(map[string]string{busybox: "recipe:busybox"}),
	)
}

// newClient connects to the sandbox's BuildKit: buildkitd's socket, or
// dockerd's API hijacked to HTTP/2 on /grpc.
func newClient(t *testing.T, sb sandbox.Sandbox) *client.Client {
	t.Helper()
	var c *client.Client
	var err error
	if strings.Contains(sb.Name(), "worker=dockerd") {
		sock := strings.TrimPrefix(sb.Address(), "unix://")
		c, err = client.New(sb.Context(), "",
			client.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
				return dockerHijack(ctx, sock, "/grpc", nil)
			}),
			client.WithSessionDialer(func(ctx context.Context, proto string, meta map[string][]string) (net.Conn, error) {
				return dockerHijack(ctx, sock, "/session", meta)
			}))
	} else {
		c, err = client.New(sb.Context(), sb.Address())
	}
	if err != nil {
		t.Fatalf("buildkit client: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// dockerHijack opens path on the Docker API at sock and upgrades the
// connection to h2c, as the Docker CLI does for BuildKit.
func dockerHijack(ctx context.Context, sock, path string, meta map[string][]string) (net.Conn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, "unix", sock)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://docker"+path, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "h2c")
	for k, vs := range meta {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		conn.Close()
		return nil, fmt.Errorf("docker %s: %s", path, resp.Status)
	}
	// The server may already have sent its first HTTP/2 frames.
	return &bufferedConn{Conn: conn, r: br}, nil
}

type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func solve(t *testing.T, sb sandbox.Sandbox, def *llb.Definition, opt client.SolveOpt) string {
	t.Helper()
	out := filepath.Join(sb.TempDir(), "out")
	opt.Exports = []client.ExportEntry{{Type: client.ExporterLocal, OutputDir: out}}
	if _, err := newClient(t, sb).Solve(sb.Context(), def, opt, nil); err != nil {
		t.Fatalf("solve: %v", err)
	}
	return out
}

func checkFile(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s = %q, want %q", path, got, want)
	}
}

func testLLBScratch(t *testing.T, sb sandbox.Sandbox) {
	st := llb.Scratch().
		File(llb.Mkdir("/dir", 0o755)).
		File(llb.Mkfile("/dir/hello", 0o644, []byte("hello from "+sb.Name())))
	def, err := st.Marshal(sb.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := solve(t, sb, def, client.SolveOpt{})
	checkFile(t, filepath.Join(out, "dir", "hello"), "hello from "+sb.Name())
}

func testDockerfileScratch(t *testing.T, sb sandbox.Sandbox) {
	src := filepath.Join(sb.TempDir(), "src")
	writeFiles(t, src, map[string]string{
		"Dockerfile": "FROM scratch\nCOPY hello.txt /copied.txt\n",
		"hello.txt":  "hello dockerfile\n",
	})
	out := solve(t, sb, nil, client.SolveOpt{
		Frontend:    "dockerfile.v0",
		LocalMounts: localMounts(t, src),
	})
	checkFile(t, filepath.Join(out, "copied.txt"), "hello dockerfile\n")
}

// busybox is pulled by every daemon from the shared mirror, which serves
// docker.io/library/busybox:latest built offline from Debian's
// busybox-static (recipe:busybox): the daemons are configured to use the
// mirror for docker.io, so the tests name the image as users do.
const busybox = "docker.io/library/busybox:latest"

func testLLBBusyboxRun(t *testing.T, sb sandbox.Sandbox) {
	// No network: the step needs none, and the private dockerd has no
	// bridge to give it one.
	st := llb.Image(busybox).
		Run(llb.Shlex(`sh -c "echo ran in busybox > /out.txt"`), llb.Network(llb.NetModeNone)).Root()
	def, err := llb.Scratch().File(llb.Copy(st, "/out.txt", "/out.txt")).Marshal(sb.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := solve(t, sb, def, client.SolveOpt{})
	checkFile(t, filepath.Join(out, "out.txt"), "ran in busybox\n")
}

func testDockerfileBusyboxRun(t *testing.T, sb sandbox.Sandbox) {
	src := filepath.Join(sb.TempDir(), "src")
	writeFiles(t, src, map[string]string{
		"Dockerfile": "FROM busybox AS base\nRUN echo from-dockerfile > /r.txt\nFROM scratch\nCOPY --from=base /r.txt /\n",
	})
	out := solve(t, sb, nil, client.SolveOpt{
		Frontend: "dockerfile.v0",
		// What docker build --network=none sets: dockerd 20.10's frontend
		// predates RUN --network.
		FrontendAttrs: map[string]string{"force-network-mode": "none"},
		LocalMounts:   localMounts(t, src),
	})
	checkFile(t, filepath.Join(out, "r.txt"), "from-dockerfile\n")
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func localMounts(t *testing.T, dir string) map[string]fsutil.FS {
	t.Helper()
	fs, err := fsutil.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]fsutil.FS{"context": fs, "dockerfile": fs}
}
