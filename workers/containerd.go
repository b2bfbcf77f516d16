package workers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	ctd "github.com/containerd/containerd/v2/client"
	"github.com/pelletier/go-toml/v2"

	"github.com/matrixbox/matrixbox/internal/daemonconfig"
	"github.com/matrixbox/matrixbox/internal/daemons"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
)

// containerdNamespace is the containerd namespace the containerd worker
// makes its containers in (exported as CONTAINERD_NAMESPACE).
const containerdNamespace = "matrixbox"

// Containerd returns the worker named "containerd": a private containerd
// (CRI off, so that several run at once) whose registry configuration
// (hosts.toml under config_path) points at the mirror. sb.Cmd runs the
// command inside a container of the cell's image, one container and
// one overlay snapshot per sandbox, with the sandbox's TempDir mounted at
// the same path. Backends export CONTAINERD_ADDRESS and
// CONTAINERD_NAMESPACE; sb.Address() is the socket's path, as
// CONTAINERD_ADDRESS, which containerd's client.New takes as it is. The
// worker's image (WithImage's, or the offline busybox) is in containerd
// (namespace "matrixbox") when the sandbox is handed to the
// test; a cell's image is pulled by the first sb.Cmd, as the test may put
// it in the mirror itself (matrix/distro's Require does).
//
// The image is, first, the reference of the first axis value of the cell
// that names one (a value with an ImageRef() string method, such as a
// matrix/distro Distro), pulled through the mirror; else WithImage's; else
// an offline busybox made from the host's static busybox.
//
// WithBinary picks another containerd, e.g. Debian's 1.6:
//
//	workers.Containerd(workers.WithBinary("/usr/bin/containerd"), workers.WithName("containerd-1.6"))
func Containerd(opts ...Option) sandbox.Worker {
	o := newOptions(ctorContainerd, "containerd", opts)
	return &containerdWorker{local: newLocal(ctorContainerd, o)}
}

type containerdWorker struct{ local }

// Kind is kindContainerd: a remote containerd worker joins a Run that has
// this worker.
func (w *containerdWorker) Kind() string { return kindContainerd }

// At is the worker at the containerd version of c ([sandbox.Versioned]).
func (w *containerdWorker) At(c matrix.Cell) sandbox.Worker {
	at := *w
	at.versions = w.versions.pin(c)
	return &at
}

// containerd is the containerd to run: WithBinary's, else the release's.
func (w *containerdWorker) containerd() (string, error) {
	return w.daemon(daemons.Containerd, "containerd")
}

// Check reports an option the worker does not read or a version it does
// not know, then says what to install when a binary is missing.
func (w *containerdWorker) Check() error {
	if w.opts.err != nil {
		return w.opts.err
	}
	var errs []error
	if w.opts.binary != "" {
		_, err := lookBinary(w.opts.binary)
		errs = append(errs, err)
	}
	errs = append(errs, w.versions.check(), checkRunc(), lookBinaries("nsenter"))
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if w.opts.image == "" {
		if err := checkStaticBusybox(); err != nil {
			return err
		}
	}
	return requireRoot()
}

func (w *containerdWorker) New(ctx context.Context, cfg *sandbox.Config) (_ sandbox.Backend, _ func() error, err error) {
	if w.opts.err != nil {
		return nil, nil, w.opts.err
	}
	cl := &sandbox.Cleanups{}
	defer func() {
		if err != nil {
			// Each error of the undoing is named by its cleanup.
			err = errors.Join(err, cl.Run())
		}
	}()
	if err := w.versions.err; err != nil {
		return nil, nil, err
	}
	bin, err := w.containerd()
	if err != nil {
		return nil, nil, err
	}
	setup := containerdSetup{binary: bin, name: "containerd"}
	if w.opts.binary == "" {
		setup.version = w.versions.release(daemons.Containerd).Version
	}
	d, err := startContainerd(ctx, cfg, setup, cl)
	if err != nil {
		return nil, nil, err
	}
	c, err := ctd.New(d.sock, ctd.WithDefaultNamespace(containerdNamespace))
	if err != nil {
		return nil, nil, fmt.Errorf("containerd client: %w", err)
	}
	cl.Add("close containerd client", c.Close)
	b := &containerBackend{
		backend: backend{
			// A plain path, as CONTAINERD_ADDRESS and ctr --address:
			// containerd's client.New reads "unix://…" as a host name.
			address:  d.sock,
			env:      append([]string{"CONTAINERD_ADDRESS=" + d.sock, "CONTAINERD_NAMESPACE=" + containerdNamespace}, cgroupEnv(cfg)...),
			features: w.opts.features,
			procs:    []*sandbox.Process{d.proc},
		},
		client:    c,
		namespace: containerdNamespace,
		image:     imageOf(cfg.Cell, w.opts.image),
		cellImage: imageOf(cfg.Cell, "") != "",
		hostsDir:  d.hostsDir,
		cgroup:    cfg.CgroupParent(),
		logs:      cfg.Logs,
		boxes:     map[string]*boxContainer{},
	}
	cl.Add("delete containers", b.deleteAll)
	if b.keep, err = readContainerd(ctx, c); err != nil {
		return nil, nil, err
	}
	if err := b.prepareAtStart(ctx); err != nil {
		return nil, nil, err
	}
	b.reset = b.wipe
	return b, cl.Run, nil
}

// ImageRefer is an axis value that names the image its cells' commands
// run in.
type ImageRefer interface {
	ImageRef() string
}

// imageOf is the image of the first axis value of c that names one, else
// def.
func imageOf(c matrix.Cell, def string) string {
	for _, a := range c.Axes() {
		if r, ok := c.Value(a).(ImageRefer); ok {
			if ref := r.ImageRef(); ref != "" {
				return ref
			}
		}
	}
	return def
}

// containerBackend is a containerd whose sandboxes run commands in a
// container.
type containerBackend struct {
	backend
	client *ctd.Client
	// namespace holds the sandboxes' containers and the image.
	namespace string
	image     string
	// cellImage says the image is named by the cell, not the worker: it is
	// made by the first command, not at start (see prepareAtStart).
	cellImage bool
	hostsDir  string
	// cgroup is the parent of the containers' cgroups: the backend's own,
	// so that a container whose containerd or shim died is killed with it.
	cgroup string
	logs   *sandbox.Logs

	// image holds the image once it is made (ensureImage); imageMu
	// guards it.
	imageMu sync.Mutex
	img     *imageInfo
	// keep is what a wipe leaves: the containerd as it was at start, and
	// the image the sandboxes run in once it is there.
	keep  containerdState
	mu    sync.Mutex
	boxes map[string]*boxContainer // by sandbox dir
}

// containerdSetup says which containerd to start and under what name.
type containerdSetup struct {
	binary string
	name   string
	// version is what containerd must report, "" when not known (a
	// binary given by WithBinary); a release of the distribution's
	// ("v1.6") must report a version of that line.
	version string
	// rootless, when not nil, runs containerd rootless.
	rootless *rootless
}

type containerdDaemon struct {
	proc     *sandbox.Process
	sock     string
	hostsDir string
}

// containerdConfig is the part of containerd's config.toml (version 2,
// which containerd 1.6 and 2.x both read) the workers write.
type containerdConfig struct {
	Version         int      `toml:"version"`
	Root            string   `toml:"root"`
	State           string   `toml:"state"`
	DisabledPlugins []string `toml:"disabled_plugins"`
	GRPC            struct {
		Address string `toml:"address"`
	} `toml:"grpc"`
	Debug struct {
		Level string `toml:"level"`
	} `toml:"debug"`
	Plugins map[string]any `toml:"plugins,omitempty"`
}

// startContainerd starts a private containerd under cfg.Dir/containerd and
// registers its stop with cl.
func startContainerd(ctx context.Context, cfg *sandbox.Config, s containerdSetup, cl *sandbox.Cleanups) (*containerdDaemon, error) {
	bin := s.binary
	dir := filepath.Join(cfg.Dir, s.name)
	if s.rootless != nil {
		dir = filepath.Join(s.rootless.dir, s.name)
	}
	if err := s.rootless.mkdir(dir); err != nil {
		return nil, err
	}
	d := &containerdDaemon{sock: filepath.Join(dir, "containerd.sock"), hostsDir: filepath.Join(dir, "certs.d")}
	var c containerdConfig
	c.Version = 2
	c.Root = filepath.Join(dir, "root")
	c.State = filepath.Join(dir, "state")
	c.GRPC.Address = d.sock
	c.Debug.Level = "debug"
	// CRI listens on fixed ports and NRI on a fixed socket: off, so that
	// any number of these containerds run side by side.
	c.DisabledPlugins = []string{"io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime", "io.containerd.cri.v1.images", "io.containerd.nri.v1.nri"}
	if cfg.Mirror != "" {
		dc, err := daemonconfig.New(cfg.Mirror, cfg.MirrorHosts)
		if err != nil {
			return nil, err
		}
		if err := dc.WriteContainerdHosts(d.hostsDir); err != nil {
			return nil, err
		}
		// Read by containerd 2's transfer service; clients (ctr
		// --hosts-dir, the Go client, buildkitd) take the same directory.
		c.Plugins = map[string]any{"io.containerd.transfer.v1.local": map[string]any{"config_path": d.hostsDir}}
	}
	conf, err := toml.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("render containerd config: %w", err)
	}
	confPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(confPath, conf, 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--config", confPath)
	// The shim next to the binary comes first, so each containerd gets its
	// own version's shim.
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	if s.rootless != nil {
		if cmd, err = s.rootless.command(cmd); err != nil {
			return nil, err
		}
	}
	p, err := startDaemon(ctx, cfg, s.name, cmd, containerdReady(d.sock))
	if err != nil {
		return nil, err
	}
	d.proc = p
	cl.Add("stop "+s.name, stopper(cfg, p))
	if s.version != "" {
		if err := checkContainerdVersion(ctx, d.sock, s.version); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// checkContainerdVersion fails unless the containerd at sock reports
// version, or a version of the line version names ("v1.6": 1.6.20~ds1).
func checkContainerdVersion(ctx context.Context, sock, version string) error {
	c, err := ctd.New(sock)
	if err != nil {
		return err
	}
	defer c.Close()
	v, err := c.Version(ctx)
	if err != nil {
		return err
	}
	got := "v" + strings.TrimPrefix(v.Version, "v")
	if got != version && !strings.HasPrefix(got, version+".") {
		return fmt.Errorf("containerd reports version %q, not %s, the version of its cell", v.Version, version)
	}
	return nil
}

// containerdReady passes once containerd answers a Version call, not merely
// once its socket exists.
func containerdReady(sock string) sandbox.Probe {
	return func(ctx context.Context) error {
		if err := sandbox.UnixSocket(sock)(ctx); err != nil {
			return err
		}
		c, err := ctd.New(sock, ctd.WithTimeout(2*time.Second))
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Version(ctx)
		return err
	}
}
