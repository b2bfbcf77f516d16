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

	"github.com/matrixbox/matrixbox/internal/daemonconfig"
	"github.com/matrixbox/matrixbox/internal/daemons"
	"github.com/matrixbox/matrixbox/internal/supervise"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
)

// Dockerd returns the worker named "dockerd": a private dockerd with the
// classic image store (its graph driver; the containerd-snapshotter
// feature off, as BuildKit's "dockerd" worker runs it) on a private
// containerd, each with its own state under the sandbox directory
// (data-root, exec-root, pidfile, runc root, containerd's root and state),
// a unix socket, its own network bridge, no iptables or ip6tables rules,
// masquerading or IP forwarding (so several run at once and the host's
// network is left alone), and registry-mirrors at the mirror. The
// containerd is the one its moby release runs on: the default containerd
// for a current moby, Debian's 1.6 for 20.10.
// Its backends' Address is a BuildKit socket forwarding to dockerd's
// BuildKit; they export BUILDKIT_HOST, DOCKER_HOST, CONTAINERD_ADDRESS and
// CONTAINERD_NAMESPACE (dockerd's, "moby"), and implement [DockerHost].
// Each dockerd is checked, once up, to report its cell's version in the
// Docker API's /version and to run the image store of its worker.
func Dockerd(opts ...Option) sandbox.Worker {
	return newDockerd(ctorDockerd, "dockerd", false, opts)
}

// DockerdContainerd returns the worker named "dockerd-containerd": the
// dockerd of [Dockerd] with the containerd image store (the
// containerd-snapshotter feature, the default of new Docker installs, as
// BuildKit's "dockerd-containerd" worker runs it): images, their content,
// snapshots and BuildKit's results live in the private containerd of its
// sandbox. Its BuildKit has what BuildKit's harness declares for that
// worker: oci-layout contexts, every exporter, cache export and import,
// multi-platform images. moby 20.10 has no such store: its cells are
// skipped, saying so, before anything starts.
func DockerdContainerd(opts ...Option) sandbox.Worker {
	return newDockerd(ctorDockerdContainerd, "dockerd-containerd", true, opts)
}

func newDockerd(ctor, name string, containerdStore bool, opts []Option) *dockerdWorker {
	o := newOptions(ctor, name, opts)
	w := &dockerdWorker{local: newLocal(ctor, o), containerdStore: containerdStore}
	w.tell()
	return w
}

type dockerdWorker struct {
	local
	// containerdStore runs dockerd with the containerd image store.
	containerdStore bool
	// major is the major version of the worker's dockerd, told by its
	// release, or by its --version for one WithBinary gave (0 when that
	// cannot be read); featureList is what that dockerd has. Both are
	// told when the worker is made, so that two workers made alike are
	// equal.
	major       int
	featureList []string
}

// tell sets what the worker's version decides.
func (w *dockerdWorker) tell() {
	w.major = w.dockerdMajor()
	w.featureList = w.features()
}

// Kind is kindDockerd: a remote dockerd worker joins a Run that has this
// worker.
func (w *dockerdWorker) Kind() string { return kindDockerd }

// At is the worker at the moby version of c ([sandbox.Versioned]).
func (w *dockerdWorker) At(c matrix.Cell) sandbox.Worker {
	at := *w
	at.versions = w.versions.pin(c)
	at.tell()
	return &at
}

// Supports reports whether the worker's dockerd has feature (one of the
// Feature* constants, by its version and image store, or one given to
// WithFeatures), or meets a MinVersion, before any backend starts.
func (w *dockerdWorker) Supports(feature string) bool {
	if has, ok := w.versions.supportsVersion(feature); ok {
		return has
	}
	return slices.Contains(w.featureList, feature)
}

// dockerd is the dockerd to run: WithBinary's, else the release's.
func (w *dockerdWorker) dockerd() (string, error) { return w.daemon(daemons.Moby, "dockerd") }

// containerdRelease is the containerd the worker's dockerd runs on: its
// release's; for a dockerd WithBinary gave, that of the table's moby of
// the same major version, else the default.
func (w *dockerdWorker) containerdRelease() daemons.Release {
	if w.opts.binary == "" {
		return w.versions.release(daemons.Moby).ContainerdRelease()
	}
	for _, r := range daemons.Table {
		if r.Component == daemons.Moby && majorOf(r.Version) == w.major {
			return r.ContainerdRelease()
		}
	}
	return daemons.Default(daemons.Containerd)
}

// Check reports an option the worker does not read or a version it does
// not know, then a moby without the worker's image store, then says what
// to install when a binary is missing.
func (w *dockerdWorker) Check() error {
	if w.opts.err != nil {
		return w.opts.err
	}
	if w.versions.err != nil {
		return w.versions.err
	}
	if err := w.checkStore(); err != nil {
		return err
	}
	var errs []error
	if w.opts.binary != "" {
		_, err := lookBinary(w.opts.binary)
		errs = append(errs, err)
	}
	errs = append(errs, w.versions.check(), checkRunc(), w.containerdRelease().Installed())
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return requireRoot()
}

// minContainerdStore is the first moby with the containerd image store.
const minContainerdStore = 24

// checkStore says, wrapping errors.ErrUnsupported (a skip in every mode),
// that the worker's dockerd has no containerd image store when it asks
// for one.
func (w *dockerdWorker) checkStore() error {
	if !w.containerdStore || w.major == 0 || w.major >= minContainerdStore {
		return nil
	}
	which := "the dockerd " + w.opts.binary
	if w.opts.binary == "" {
		which = "moby " + w.versions.release(daemons.Moby).Version
	}
	return unsupportedCell(fmt.Sprintf("%s has no containerd image store (dockerd's containerd-snapshotter feature, from moby %d); worker %q runs on moby %d and later",
		which, minContainerdStore, w.opts.name, minContainerdStore))
}

// unsupportedCell is a Check error that is errors.ErrUnsupported: a cell
// the worker cannot have.
type unsupportedCell string

func (e unsupportedCell) Error() string        { return string(e) }
func (e unsupportedCell) Is(target error) bool { return target == errors.ErrUnsupported }

// dockerdConfig is the daemon.json the worker writes.
type dockerdConfig struct {
	daemonconfig.DockerdRegistry
	Features map[string]bool `json:"features,omitempty"`
}

// dockerdNamespace is the containerd namespace of dockerd's containers
// and, with the containerd image store, of its images.
const dockerdNamespace = "moby"

func (w *dockerdWorker) New(ctx context.Context, cfg *sandbox.Config) (_ sandbox.Backend, _ func() error, err error) {
	if w.opts.err != nil {
		return nil, nil, w.opts.err
	}
	if err := w.versions.err; err != nil {
		return nil, nil, err
	}
	if err := w.checkStore(); err != nil {
		return nil, nil, err
	}
	bin, err := w.dockerd()
	if err != nil {
		return nil, nil, err
	}
	ctdRel := w.containerdRelease()
	if err := ctdRel.Installed(); err != nil {
		return nil, nil, err
	}
	cl := &sandbox.Cleanups{}
	defer func() {
		if err != nil {
			// Each error of the undoing is named by its cleanup.
			err = errors.Join(err, cl.Run())
		}
	}()

	// dockerd's own containerd, started by us rather than by dockerd, so
	// that it is the version of the table, logs apart, and is checked.
	ctd, err := startContainerd(ctx, cfg, containerdSetup{binary: ctdRel.Path("containerd"), name: "containerd", version: ctdRel.Version}, cl)
	if err != nil {
		return nil, nil, err
	}
	c := dockerdConfig{Features: map[string]bool{"buildkit": true}}
	if w.containerdStore || w.major >= minContainerdStore {
		// Said either way: moby 29 takes the containerd store by default.
		c.Features["containerd-snapshotter"] = w.containerdStore
	}
	if cfg.Mirror != "" {
		dc, err := daemonconfig.New(cfg.Mirror, cfg.MirrorHosts)
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
		"--containerd", ctd.sock,
		"--iptables=false",
		// moby 27 and later add ip6tables rules by default, in the
		// host's network namespace, even with --iptables=false.
		"--ip6tables=false",
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
	api := newDockerAPI(sock)
	if err := w.checkDockerd(ctx, api); err != nil {
		return nil, nil, err
	}
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
			procs:    []*sandbox.Process{p, ctd.proc},
		},
		docker: "unix://" + sock,
		bridge: br,
	}
	b.env = append([]string{"BUILDKIT_HOST=" + b.address, "DOCKER_HOST=" + b.docker,
		"CONTAINERD_ADDRESS=" + ctd.sock, "CONTAINERD_NAMESPACE=" + dockerdNamespace, dockerdPath(ctdRel)}, cgroupEnv(cfg)...)
	var bk *buildkitWiper
	if w.major >= historyMoby {
		bk = &buildkitWiper{address: b.address}
		cl.Add("close dockerd's BuildKit control connection", bk.close)
		if w.opts.binary == "" {
			// The BuildKit inside is the one the table says (MinVersion
			// answers with it).
			rel := w.versions.release(daemons.Moby)
			if err := bk.checkVersion(ctx, rel.BuildKit); err != nil {
				return nil, nil, fmt.Errorf("the BuildKit inside moby %s: %w", rel.Version, err)
			}
		}
	}
	if b.reset, err = w.wiper(ctx, api, bk, ctd.sock, cl); err != nil {
		return nil, nil, err
	}
	return b, cl.Run, nil
}

// dockerdPath is the PATH sb.Cmd runs with: the directories of the
// default BuildKit's buildctl (a client of dockerd's BuildKit at
// BUILDKIT_HOST) and of dockerd's containerd before the test process's.
func dockerdPath(ctd daemons.Release) string {
	dirs := []string{filepath.Dir(daemons.Default(daemons.BuildKit).Path("buildctl")), filepath.Dir(ctd.Path("containerd"))}
	return "PATH=" + strings.Join(append(dirs, os.Getenv("PATH")), string(os.PathListSeparator))
}

// checkDockerd fails unless the dockerd that api reaches is the cell's:
// the version of its release in /version (a release of Debian's being a
// line, "v20.10": 20.10.24+dfsg1), and the image store of the worker.
func (w *dockerdWorker) checkDockerd(ctx context.Context, api *dockerAPI) error {
	if w.opts.binary == "" {
		want := w.versions.release(daemons.Moby).Version
		var v struct{ Version string }
		if err := api.do(ctx, http.MethodGet, "/version", nil, &v); err != nil {
			return err
		}
		if got := "v" + v.Version; got != want && !strings.HasPrefix(got, want+".") {
			return fmt.Errorf("dockerd reports version %q in /version, not %s, the version of its cell", v.Version, want)
		}
	}
	var info struct {
		Driver       string
		DriverStatus [][2]string
	}
	if err := api.do(ctx, http.MethodGet, "/info", nil, &info); err != nil {
		return err
	}
	store := map[bool]string{true: "containerd", false: "classic"}
	has := slices.Contains(info.DriverStatus, [2]string{"driver-type", "io.containerd.snapshotter.v1"})
	if has != w.containerdStore {
		return fmt.Errorf("dockerd runs the %s image store (storage driver %s), not the %s one of worker %q",
			store[has], info.Driver, store[w.containerdStore], w.opts.name)
	}
	return nil
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
	for _, m := range supervise.MountsUnder(dir) {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
			cfg.Logs.Printf("dockerd", "matrixbox: detach %s, left by dockerd: %v", m, err)
			continue
		}
		cfg.Logs.Printf("dockerd", "matrixbox: detached %s, which dockerd left bound when it stopped", m)
	}
}

// DockerHost is implemented by a backend that serves Docker's API besides
// BuildKit's (the [Dockerd] worker's), and by a Sandbox wrapper that
// forwards it.
type DockerHost interface {
	// DockerAddress is the Docker API endpoint, e.g.
	// "unix:///tmp/mbx-1-2/b/docker.sock".
	DockerAddress() string
}

// DockerAddress returns the Docker API endpoint of sb: its own when sb
// implements [DockerHost], else its backend's (through
// sandbox.Sandbox.Backend); "" when it has none. sb.Cmd exports the same
// address as DOCKER_HOST, while sb.Address() is BuildKit's.
func DockerAddress(sb sandbox.Sandbox) string {
	if d, ok := sb.(DockerHost); ok {
		return d.DockerAddress()
	}
	if d, ok := sb.Backend().(DockerHost); ok {
		return d.DockerAddress()
	}
	return ""
}
