package workers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/matrixbox/matrixbox/internal/daemonconfig"
	"github.com/matrixbox/matrixbox/internal/daemons"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
)

// BuildkitdOCI returns the worker named "buildkitd-oci": a private buildkitd
// with the OCI (runc) worker, its own root under the sandbox directory, a
// unix socket, garbage collection off, and registries pulled through the
// mirror. Its backends export BUILDKIT_HOST.
func BuildkitdOCI(opts ...Option) sandbox.Worker {
	o := newOptions(ctorBuildkitdOCI, "buildkitd-oci", opts)
	return &buildkitdWorker{local: newLocal(ctorBuildkitdOCI, o)}
}

// BuildkitdContainerd returns the worker named "buildkitd-containerd": a
// private containerd and a buildkitd using it through its containerd worker.
// Its backends export BUILDKIT_HOST, CONTAINERD_ADDRESS and
// CONTAINERD_NAMESPACE (the namespace buildkitd works in).
func BuildkitdContainerd(opts ...Option) sandbox.Worker {
	o := newOptions(ctorBuildkitdContainerd, "buildkitd-containerd", opts)
	return &buildkitdWorker{local: newLocal(ctorBuildkitdContainerd, o), containerd: true}
}

type buildkitdWorker struct {
	local
	containerd bool
}

// Kind is kindBuildkit: a remote buildkit worker joins a Run that has this
// worker.
func (w *buildkitdWorker) Kind() string { return kindBuildkit }

// At is the worker at the versions of c ([sandbox.Versioned]).
func (w *buildkitdWorker) At(c matrix.Cell) sandbox.Worker {
	at := *w
	at.versions = w.versions.pin(c)
	return &at
}

// buildkitd is the buildkitd to run: WithBinary's, else the release's.
func (w *buildkitdWorker) buildkitd() (string, error) { return w.daemon(daemons.BuildKit, "buildkitd") }

// pathEnv is the PATH sb.Cmd runs with: the directories of the cell's
// buildkitd (its buildctl) and containerd (its ctr, when it has one)
// before the test process's.
func (w *buildkitdWorker) pathEnv(buildkitd string) string {
	dirs := []string{filepath.Dir(buildkitd)}
	if w.containerd {
		dirs = append(dirs, filepath.Dir(w.versions.release(daemons.Containerd).Path("containerd")))
	}
	return "PATH=" + strings.Join(append(dirs, os.Getenv("PATH")), string(os.PathListSeparator))
}

// Check reports an option the worker does not read or a version it does
// not know, then says what to install when a binary is missing.
func (w *buildkitdWorker) Check() error {
	if w.opts.err != nil {
		return w.opts.err
	}
	var errs []error
	if w.opts.binary != "" {
		_, err := lookBinary(w.opts.binary)
		errs = append(errs, err)
	}
	errs = append(errs, w.versions.check())
	errs = append(errs, checkRunc())
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if w.opts.rootless {
		return checkRootless()
	}
	return requireRoot()
}

// buildkitdNamespace is the containerd namespace of buildkitd's containerd
// worker.
const buildkitdNamespace = "buildkit"

// buildkitdConfig is the part of buildkitd.toml the workers write.
type buildkitdConfig struct {
	Root  string `toml:"root"`
	Debug bool   `toml:"debug"`
	GRPC  struct {
		Address []string `toml:"address"`
	} `toml:"grpc"`
	Worker struct {
		OCI struct {
			Enabled             bool     `toml:"enabled"`
			GC                  bool     `toml:"gc"`
			DefaultCgroupParent string   `toml:"defaultCgroupParent,omitempty"`
			Platforms           []string `toml:"platforms,omitempty"`
		} `toml:"oci"`
		Containerd struct {
			Enabled             bool     `toml:"enabled"`
			GC                  bool     `toml:"gc"`
			Address             string   `toml:"address,omitempty"`
			Namespace           string   `toml:"namespace,omitempty"`
			Snapshotter         string   `toml:"snapshotter,omitempty"`
			DefaultCgroupParent string   `toml:"defaultCgroupParent,omitempty"`
			Platforms           []string `toml:"platforms,omitempty"`
		} `toml:"containerd"`
	} `toml:"worker"`
	Registry map[string]daemonconfig.BuildkitdRegistry `toml:"registry,omitempty"`
	OTEL     struct {
		SocketPath string `toml:"socketPath"`
	} `toml:"otel"`
	CDI struct {
		SpecDirs []string `toml:"specDirs"`
	} `toml:"cdi"`
}

func (w *buildkitdWorker) New(ctx context.Context, cfg *sandbox.Config) (_ sandbox.Backend, _ func() error, err error) {
	if w.opts.err != nil {
		return nil, nil, w.opts.err
	}
	if err := w.versions.err; err != nil {
		return nil, nil, err
	}
	bin, err := w.buildkitd()
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
	b := &backend{features: w.opts.features}
	var ctdSock string
	// state is where buildkitd writes: its root, sockets and TMPDIR. A
	// rootless buildkitd writes in the part of the backend's directory
	// its user owns, and its containers stay in its cgroup (the
	// sandbox's), having no cgroup parent.
	state, cgroupParent := cfg.Dir, cfg.CgroupParent()
	var rl *rootless
	if w.opts.rootless {
		if rl, err = newRootless(ctx, cfg, cl, w.containerd); err != nil {
			return nil, nil, err
		}
		state, cgroupParent = rl.dir, ""
	} else {
		b.env = cgroupEnv(cfg)
	}

	var c buildkitdConfig
	c.Root = filepath.Join(state, "buildkitd")
	c.Debug = true
	sock := filepath.Join(state, "buildkitd.sock")
	c.GRPC.Address = []string{"unix://" + sock}
	// The default, /run/buildkit/otel-grpc.sock, is one path for every
	// buildkitd of the machine: each replaces the others' socket, and a
	// RUN step of theirs then fails to bind-mount the deleted one.
	c.OTEL.SocketPath = filepath.Join(state, "otel-grpc.sock")
	if b.cdiSpecDir, err = makeCDISpecDir(cfg.Dir); err != nil {
		return nil, nil, err
	}
	c.CDI.SpecDirs = []string{b.cdiSpecDir}
	if w.containerd {
		ctdBin, err := w.versions.binary(daemons.Containerd, "containerd")
		if err != nil {
			return nil, nil, err
		}
		ctd, err := startContainerd(ctx, cfg, containerdSetup{binary: ctdBin, name: "containerd", version: w.versions.release(daemons.Containerd).Version, rootless: rl}, cl)
		if err != nil {
			return nil, nil, err
		}
		b.procs = append(b.procs, ctd.proc)
		ctdSock = ctd.sock
		c.Worker.Containerd.Enabled = true
		c.Worker.Containerd.Address = ctd.sock
		c.Worker.Containerd.Namespace = buildkitdNamespace
		c.Worker.Containerd.DefaultCgroupParent = cgroupParent
		if rl != nil {
			// As BuildKit's harness runs its containerd-rootless.
			c.Worker.Containerd.Snapshotter = "native"
		}
		b.env = append(b.env, "CONTAINERD_ADDRESS="+ctd.sock, "CONTAINERD_NAMESPACE="+buildkitdNamespace)
	} else {
		c.Worker.OCI.Enabled = true
		// RUN containers go under the sandbox's cgroup, so that one whose
		// buildkitd crashed is killed with the sandbox.
		c.Worker.OCI.DefaultCgroupParent = cgroupParent
	}
	if cfg.Mirror != "" {
		dc, err := daemonconfig.New(cfg.Mirror, cfg.MirrorHosts)
		if err != nil {
			return nil, nil, err
		}
		c.Registry = dc.BuildkitdRegistries()
	}
	// Both workers' platforms are set: buildkitd probes the emulators for
	// any worker whose list is empty, enabled or not.
	platformsKey, memo := platformKey(bin, w.opts.args)
	if ps := buildkitdPlatforms.get(platformsKey); memo && ps != nil {
		c.Worker.OCI.Platforms, c.Worker.Containerd.Platforms = ps, ps
	}
	conf, err := toml.Marshal(c)
	if err != nil {
		return nil, nil, fmt.Errorf("render buildkitd.toml: %w", err)
	}
	if conf, err = w.opts.applyBuildkitdConfig(cfg, conf, cl); err != nil {
		return nil, nil, err
	}
	// Learn from this buildkitd only when it finds the platforms itself:
	// none were preset, and no config of the user's names any.
	learn := memo && c.Worker.OCI.Platforms == nil && !bytes.Contains(conf, []byte("platforms"))
	confPath := filepath.Join(cfg.Dir, "buildkitd.toml")
	if err := os.WriteFile(confPath, conf, 0o644); err != nil {
		return nil, nil, err
	}
	tmp := filepath.Join(state, "tmp")
	if err := rl.mkdir(tmp); err != nil {
		return nil, nil, err
	}
	cfg.Logs.Printf("buildkitd.toml", "%s", conf)

	args := append([]string{"--config", confPath}, w.opts.args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), "TMPDIR="+tmp), w.opts.env...)
	if rl != nil {
		if cmd, err = rl.command(cmd); err != nil {
			return nil, nil, err
		}
	}
	p, err := startDaemon(ctx, cfg, "buildkitd", cmd, sandbox.UnixSocket(sock))
	if err != nil {
		return nil, nil, err
	}
	if learn {
		buildkitdPlatforms.watch(platformsKey, func() string { return cfg.Logs.Text("buildkitd") })
	}
	cl.Add("stop buildkitd", stopper(cfg, p))
	b.procs = append([]*sandbox.Process{p}, b.procs...)
	wiper := &buildkitWiper{address: "unix://" + sock}
	if w.opts.binary == "" {
		// The cell's name says which buildkitd it is: make sure.
		if err := wiper.checkVersion(ctx, w.versions.release(daemons.BuildKit).Version); err != nil {
			return nil, nil, err
		}
	}
	if w.containerd {
		// What buildkitd's containerd worker holds once it is up is its
		// own; a wipe leaves the containerd as it was then.
		if wiper.after, err = containerdProof(ctx, ctdSock, cl); err != nil {
			return nil, nil, err
		}
	}
	cl.Add("close buildkitd control connection", wiper.close)
	b.reset = wiper.reset
	b.address = "unix://" + sock
	b.env = append(b.env, "BUILDKIT_HOST="+b.address, w.pathEnv(bin))
	return b, cl.Run, nil
}
