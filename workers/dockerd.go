package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/matrixbox/matrixbox/internal/daemons"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/sandbox"
)

// Dockerd returns the worker named "dockerd": a private dockerd with its own
// data-root, exec-root, pidfile, unix socket and network bridge, no iptables
// rules, masquerading or IP forwarding (so several run at once and the
// host's network is left alone), and registry-mirrors at the mirror; the
// dockerd starts its own containerd, the first one on PATH. Its backends'
// Address is a BuildKit socket forwarding to dockerd's BuildKit; they
// export BUILDKIT_HOST and DOCKER_HOST, and implement [DockerHost].
func Dockerd(opts ...Option) sandbox.Worker {
	o := newOptions(ctorDockerd, "dockerd", opts)
	w := &dockerdWorker{opts: o, versions: newVersions(ctorDockerd, o)}
	w.featureList = w.features()
	return w
}

type dockerdWorker struct {
	opts     options
	versions versions
	// featureList is what the worker's dockerd has, told by its version
	// when the worker is made, so that two workers made alike are equal.
	featureList []string
}

func (w *dockerdWorker) Name() string { return w.opts.name }

// Axes are the worker's own axis, moby ([sandbox.Versioned]); none when
// WithBinary gave the dockerd.
func (w *dockerdWorker) Axes() []matrix.Axis { return w.versions.axes() }

// At is the worker at the moby version of c ([sandbox.Versioned]).
func (w *dockerdWorker) At(c matrix.Cell) sandbox.Worker {
	at := *w
	at.versions = w.versions.pin(c)
	at.featureList = at.features()
	return &at
}

// Supports reports whether the worker's dockerd has feature (one of the
// Feature* constants, by its version, or one given to WithFeatures), or
// meets a MinVersion, before any backend starts.
func (w *dockerdWorker) Supports(feature string) bool {
	if has, ok := w.versions.supportsVersion(feature); ok {
		return has
	}
	return slices.Contains(w.featureList, feature)
}

// dockerd is the dockerd to run: WithBinary's, else the release's.
func (w *dockerdWorker) dockerd() (string, error) {
	if w.opts.binary != "" {
		return lookBinary(w.opts.binary)
	}
	return w.versions.binary(daemons.Moby, "dockerd")
}

// Check reports an option the worker does not read or a version it does
// not know, then says what to install when a binary is missing.
func (w *dockerdWorker) Check() error {
	if w.opts.err != nil {
		return w.opts.err
	}
	var errs []error
	if w.opts.binary != "" {
		_, err := lookBinary(w.opts.binary)
		errs = append(errs, err)
	}
	errs = append(errs, w.versions.check(), checkRunc(), lookBinaries("containerd"))
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return requireRoot()
}

// dockerdConfig is the daemon.json the worker writes.
type dockerdConfig struct {
	mirror.DockerdRegistry
	Features map[string]bool `json:"features,omitempty"`
}

func (w *dockerdWorker) New(ctx context.Context, cfg *sandbox.Config) (_ sandbox.Backend, _ func() error, err error) {
	if w.opts.err != nil {
		return nil, nil, w.opts.err
	}
	if err := w.versions.err; err != nil {
		return nil, nil, err
	}
	bin, err := w.dockerd()
	if err != nil {
		return nil, nil, err
	}
	cl := &sandbox.Cleanups{}
	defer func() {
		if err != nil {
			// Each error of the undoing is named by its cleanup.
			err = errors.Join(err, cl.Run())
		}
	}()

	c := dockerdConfig{Features: map[string]bool{"buildkit": true}}
	if cfg.Mirror != "" {
		dc, err := mirror.NewDaemonConfig(cfg.Mirror, cfg.MirrorHosts)
		if err != nil {
			return nil, nil, err
		}
		c.DockerdRegistry = dc.Dockerd()
	}
	conf, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, nil, fmt.Errorf("render daemon.json: %w", err)
	}
	confPath := filepath.Join(cfg.Dir, "daemon.json")
	if err := os.WriteFile(confPath, conf, 0o644); err != nil {
		return nil, nil, err
	}
	cfg.Logs.Printf("daemon.json", "%s", conf)
	br, err := newBridge(cfg, cl)
	if err != nil {
		return nil, nil, err
	}
	sock := filepath.Join(cfg.Dir, "docker.sock")
	args := []string{
		"--config-file", confPath,
		"--data-root", filepath.Join(cfg.Dir, "data"),
		"--exec-root", filepath.Join(cfg.Dir, "exec"),
		"--pidfile", filepath.Join(cfg.Dir, "docker.pid"),
		"--host", "unix://" + sock,
		"--iptables=false",
		"--ip-masq=false",
		"--bridge=" + br,
		"--ip-forward=false",
		"--userland-proxy=false",
		"--debug",
	}
	if parent := cfg.CgroupParent(); parent != "" {
		// Containers go under the sandbox's cgroup, so that one whose
		// dockerd crashed is killed with the sandbox.
		args = append(args, "--cgroup-parent", parent)
	}
	cmd := exec.Command(bin, append(args, w.opts.args...)...)
	cmd.Env = append(append(os.Environ(), "TMPDIR="+cfg.Dir), w.opts.env...)
	p, err := startDaemon(ctx, cfg, "dockerd", cmd, dockerPing(sock))
	if err != nil {
		return nil, nil, err
	}
	// Runs after dockerd has stopped.
	cl.Add("detach dockerd's network namespaces", func() error {
		detachNetns(cfg, filepath.Join(cfg.Dir, "exec", "netns"))
		return nil
	})
	cl.Add("stop dockerd", stopper(cfg, p))
	bkSock := filepath.Join(cfg.Dir, "buildkit.sock")
	proxy, err := serveBuildkit(bkSock, sock, cfg.Logs.Writer("dockerd"))
	if err != nil {
		return nil, nil, err
	}
	cl.Add("close the BuildKit socket", proxy.Close)
	b := &dockerdBackend{
		backend: backend{
			address:  "unix://" + bkSock,
			features: w.featureList,
			procs:    []*sandbox.Process{p},
		},
		docker: "unix://" + sock,
		bridge: br,
	}
	b.env = append([]string{"BUILDKIT_HOST=" + b.address, "DOCKER_HOST=" + b.docker}, cgroupEnv(cfg)...)
	api := newDockerAPI(sock)
	keep, err := api.state(ctx)
	if err != nil {
		return nil, nil, err
	}
	b.reset = func(ctx context.Context) error { return wipeDockerd(ctx, api, keep) }
	return b, cl.Run, nil
}

// dockerdBackend is a running dockerd: BuildKit's API at Address (see
// serveBuildkit), Docker's at DockerAddress.
type dockerdBackend struct {
	backend
	docker string
	bridge string // the Linux bridge of its default network
}

// DockerAddress is the Docker API's endpoint, also DOCKER_HOST in sb.Cmd.
func (b *dockerdBackend) DockerAddress() string { return b.docker }

// dockerPing passes once the API at sock answers /_ping with OK: the socket
// exists before dockerd has finished starting.
func dockerPing(sock string) sandbox.Probe {
	hc := &http.Client{
		Timeout: 2 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}},
	}
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker/_ping", nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64))
		if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "OK" {
			return fmt.Errorf("/_ping: %s %q", resp.Status, body)
		}
		return nil
	}
}

// detachNetns detaches the network namespaces a stopped dockerd left bound
// under dir. Its builder releases a RUN step's namespace in a goroutine of
// its own (moby 20.10's builder-next bridge network); a dockerd stopped
// right after a RUN, a failing one above all, exits before that goroutine
// has run, and the namespace's bind mount stays. It is the daemon's state,
// not a leak of the test's: detached here, with a line in the log.
func detachNetns(cfg *sandbox.Config, dir string) {
	for _, m := range sandbox.MountsUnder(dir) {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
			cfg.Logs.Printf("dockerd", "matrixbox: detach %s, left by dockerd: %v", m, err)
			continue
		}
		cfg.Logs.Printf("dockerd", "matrixbox: detached %s, which dockerd left bound when it stopped", m)
	}
}
