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

	"github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/tonistiigi/fsutil"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

// featureOCILayout is this suite's name for "takes images from a client's
// OCI layout store": the suite declares it, the workers do not.
const featureOCILayout = "oci-layout"

func TestBuildkit(t *testing.T) {
	integration.Run(t, integration.TestFuncs(testLLBScratch, testDockerfileScratch, testLLBBusyboxRun, testDockerfileBusyboxRun),
		integration.WithWorkers(
			workers.BuildkitdOCI(workers.WithFeatures(featureOCILayout)),
			workers.BuildkitdContainerd(workers.WithFeatures(featureOCILayout)),
			workers.Dockerd(),
		))
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

// busyboxStore writes the offline busybox as an OCI layout and returns it
// as a content store, with the reference BuildKit resolves in it.
func busyboxStore(t *testing.T, sb sandbox.Sandbox) (map[string]contentStore, string) {
	t.Helper()
	if !sandbox.Supports(sb, featureOCILayout) {
		t.Skipf("%s: BuildKit here does not take images from a client's OCI layout", sb.Name())
	}
	dir := filepath.Join(sb.TempDir(), "busybox-layout")
	desc, err := writeBusyboxLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	store, err := local.NewStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]contentStore{"busybox": store}, "busybox@" + desc.Digest.String()
}

func testLLBBusyboxRun(t *testing.T, sb sandbox.Sandbox) {
	stores, ref := busyboxStore(t, sb)
	// LLB takes a full reference; only its digest picks the content.
	st := llb.OCILayout("docker.io/library/"+ref, llb.OCIStore("", "busybox")).
		Run(llb.Shlex(`sh -c "echo ran in busybox > /out.txt"`)).Root()
	def, err := llb.Scratch().File(llb.Copy(st, "/out.txt", "/out.txt")).Marshal(sb.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := solve(t, sb, def, client.SolveOpt{OCIStores: stores})
	checkFile(t, filepath.Join(out, "out.txt"), "ran in busybox\n")
}

func testDockerfileBusyboxRun(t *testing.T, sb sandbox.Sandbox) {
	stores, ref := busyboxStore(t, sb)
	src := filepath.Join(sb.TempDir(), "src")
	writeFiles(t, src, map[string]string{
		"Dockerfile": "FROM busybox AS base\nRUN echo from-dockerfile > /r.txt\nFROM scratch\nCOPY --from=base /r.txt /\n",
	})
	out := solve(t, sb, nil, client.SolveOpt{
		Frontend:      "dockerfile.v0",
		FrontendAttrs: map[string]string{"context:busybox": "oci-layout://" + ref},
		LocalMounts:   localMounts(t, src),
		OCIStores:     stores,
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
