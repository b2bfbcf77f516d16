// Package suite is the fixture the fault tests run as a child go test: a
// real supervised daemon per case and a test whose behaviour the parent
// picks with FAULT=<name>. It lives under testdata so go test ./... does not
// run it on its own.
package suite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/sandbox"
)

func TestSuite(t *testing.T) {
	tests := integration.TestFuncs(testFault, testQuiet)
	switch os.Getenv("FAULT") {
	case "warm-shared":
		tests = integration.With(tests, integration.SharedBackend())
	case "warm-reset":
		tests = integration.With(tests, integration.ResetBackend())
	}
	integration.Run(t, tests,
		integration.WithWorkers(sleepd{}),
		integration.WithAxes(matrix.Strings("n", "1", "2")))
}

// sleepd is a worker whose daemon is a real process: `sleep`, started
// through the supervisor like every daemon. Its pid goes to $FAULT_DIR/pids.
type sleepd struct{}

func (sleepd) Name() string { return "sleepd" }
func (sleepd) New(ctx context.Context, cfg *sandbox.Config) (sandbox.Backend, func() error, error) {
	p, err := cfg.Start("sleepd", exec.Command("sh", "-c", "echo sleepd up; exec sleep 900"))
	if err != nil {
		return nil, nil, err
	}
	if os.Getenv("FAULT") == "never-ready" && cfg.Cell.Value("n") == "2" {
		// A socket that never appears: the worker must give up, stop the
		// daemon and say why, with the daemon's log.
		sock := filepath.Join(cfg.Dir, "sleepd.sock")
		if err := p.WaitReady(ctx, 2*time.Second, sandbox.UnixSocket(sock)); err != nil {
			return nil, nil, errors.Join(err, p.Stop(5*time.Second))
		}
	}
	note("pids", fmt.Sprint(p.Pid()))
	note("dirs", cfg.Dir)
	note("owner", fmt.Sprint(os.Getpid()))
	return backend{p}, func() error { return p.Stop(5 * time.Second) }, nil
}

type backend struct{ p *sandbox.Process }

// Reset has nothing to wipe: sleepd holds no state.
func (backend) Reset(context.Context) error { return nil }

// TestMirrored runs when FAULT=mirror: one case with an image mirrored into
// the mirror at $FAULT_MIRROR, whose manifest and blobs the case fetches
// and checks against their digests, as a daemon pulling it would.
func TestMirrored(t *testing.T) {
	if os.Getenv("FAULT") != "mirror" {
		t.Skip("FAULT=mirror only")
	}
	note("owner", fmt.Sprint(os.Getpid()))
	m := mirror.New(os.Getenv("FAULT_MIRROR"))
	// Not defer: the cases run in parallel after this function returns.
	t.Cleanup(func() { _ = m.Close() })
	integration.Run(t, integration.TestFuncs(testPullsImage),
		integration.WithMirror(m),
		integration.WithMirroredImages(map[string]string{"library/busybox:latest": "binary:/bin/busybox"}))
}

func testPullsImage(t *testing.T, sb sandbox.Sandbox) {
	get := func(path, accept string) []byte {
		req, _ := http.NewRequest("GET", "http://"+sb.Mirror()+path, nil)
		req.Header.Set("Accept", accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		return b
	}
	man := get("/v2/library/busybox/manifests/latest", ocispec.MediaTypeImageManifest+","+ocispec.MediaTypeImageIndex)
	var m ocispec.Manifest
	if err := json.Unmarshal(man, &m); err != nil {
		t.Fatal(err)
	}
	for _, d := range append([]ocispec.Descriptor{m.Config}, m.Layers...) {
		if got := digest.FromBytes(get("/v2/library/busybox/blobs/"+d.Digest.String(), "*/*")); got != d.Digest {
			t.Errorf("blob %s served with digest %s", d.Digest, got)
		}
	}
}

func (backend) Address() string { return "" }

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

func testQuiet(t *testing.T, sb sandbox.Sandbox) {}

func testFault(t *testing.T, sb sandbox.Sandbox) {
	switch os.Getenv("FAULT") {
	case "hang", "panic", "exit", "goroutine-panic":
		// Leave a child of the test behind too, as a careless test would.
		_ = sb.Cmd("sleep", "901").Start()
	}
	note("ready", sb.Name())
	switch os.Getenv("FAULT") {
	case "hang":
		time.Sleep(time.Hour)
	case "panic":
		panic("FAULT-PANIC")
	case "exit":
		os.Exit(3)
	case "kill-daemon":
		if sb.Value("n") == "2" {
			be := sb.Backend().(backend)
			_ = syscall.Kill(be.p.Pid(), syscall.SIGKILL)
			<-be.p.Done()
		}
	case "disk-full":
		if sb.Value("n") == "2" {
			big := make([]byte, 4<<20)
			if err := os.WriteFile(filepath.Join(sb.TempDir(), "big"), big, 0o644); err != nil {
				t.Fatalf("write into the sandbox: %v", err)
			}
		}
	case "goroutine-panic":
		done := make(chan struct{})
		go func() { defer close(done); panic("FAULT-GOROUTINE-PANIC") }()
		<-done
	}
}
