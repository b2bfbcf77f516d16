package workers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/pelletier/go-toml/v2"

	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/sandbox"
)

// BuildkitdOCI returns the worker named "buildkitd-oci": a private buildkitd
// with the OCI (runc) worker, its own root under the sandbox directory, a
// unix socket, garbage collection off, and registries pulled through the
// mirror. Its backends export BUILDKIT_HOST.
func BuildkitdOCI(opts ...Option) sandbox.Worker {
	return &buildkitdWorker{opts: newOptions(ctorBuildkitdOCI, "buildkitd-oci", opts)}
}

// BuildkitdContainerd returns the worker named "buildkitd-containerd": a
// private containerd and a buildkitd using it through its containerd worker.
// Its backends export BUILDKIT_HOST, CONTAINERD_ADDRESS and
// CONTAINERD_NAMESPACE (the namespace buildkitd works in).
func BuildkitdContainerd(opts ...Option) sandbox.Worker {
	return &buildkitdWorker{opts: newOptions(ctorBuildkitdContainerd, "buildkitd-containerd", opts), containerd: true}
}

type buildkitdWorker struct {
	opts       options
	containerd bool
}

func (w *buildkitdWorker) Name() string { return w.opts.name }

// Supports reports whether the worker was declared to have feature
// (WithFeatures), before any backend starts.
func (w *buildkitdWorker) Supports(feature string) bool { return w.opts.supports(feature) }

func (w *buildkitdWorker) binary() string { return w.opts.binaryOr("buildkitd") }

// Check reports an option the worker does not read, then says what to
// install when a binary is missing.
func (w *buildkitdWorker) Check() error {
	if w.opts.err != nil {
		return w.opts.err
	}
	bins := []string{w.binary(), "buildctl"}
	if w.containerd {
		bins = append(bins, "containerd", "containerd-shim-runc-v2")
	} else {
		bins = append(bins, "runc")
	}
	if err := lookBinaries(bins...); err != nil {
		return err
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
			DefaultCgroupParent string   `toml:"defaultCgroupParent,omitempty"`
			Platforms           []string `toml:"platforms,omitempty"`
		} `toml:"containerd"`
	} `toml:"worker"`
	Registry map[string]mirror.BuildkitdRegistry `toml:"registry,omitempty"`
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
	bin, err := lookBinary(w.binary())
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
	b := &backend{features: w.opts.features, env: cgroupEnv(cfg)}
	var ctdSock string

	var c buildkitdConfig
	c.Root = filepath.Join(cfg.Dir, "buildkitd")
	c.Debug = true
	sock := filepath.Join(cfg.Dir, "buildkitd.sock")
	c.GRPC.Address = []string{"unix://" + sock}
	// The default, /run/buildkit/otel-grpc.sock, is one path for every
	// buildkitd of the machine: each replaces the others' socket, and a
	// RUN step of theirs then fails to bind-mount the deleted one.
	c.OTEL.SocketPath = filepath.Join(cfg.Dir, "otel-grpc.sock")
	if b.cdiSpecDir, err = makeCDISpecDir(cfg.Dir); err != nil {
		return nil, nil, err
	}
	c.CDI.SpecDirs = []string{b.cdiSpecDir}
	if w.containerd {
		ctd, err := startContainerd(ctx, cfg, containerdSetup{binary: "containerd", name: "containerd"}, cl)
		if err != nil {
			return nil, nil, err
		}
		b.procs = append(b.procs, ctd.proc)
		ctdSock = ctd.sock
		c.Worker.Containerd.Enabled = true
		c.Worker.Containerd.Address = ctd.sock
		c.Worker.Containerd.Namespace = buildkitdNamespace
		c.Worker.Containerd.DefaultCgroupParent = cfg.CgroupParent()
		b.env = append(b.env, "CONTAINERD_ADDRESS="+ctd.sock, "CONTAINERD_NAMESPACE="+buildkitdNamespace)
	} else {
		c.Worker.OCI.Enabled = true
		// RUN containers go under the sandbox's cgroup, so that one whose
		// buildkitd crashed is killed with the sandbox.
		c.Worker.OCI.DefaultCgroupParent = cfg.CgroupParent()
	}
	if cfg.Mirror != "" {
		dc, err := mirror.NewDaemonConfig(cfg.Mirror, cfg.MirrorHosts)
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
	tmp := filepath.Join(cfg.Dir, "tmp")
	if err := os.Mkdir(tmp, 0o711); err != nil {
		return nil, nil, err
	}
	cfg.Logs.Printf("buildkitd.toml", "%s", conf)

	args := append([]string{"--config", confPath}, w.opts.args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), "TMPDIR="+tmp), w.opts.env...)
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
	b.env = append(b.env, "BUILDKIT_HOST="+b.address)
	return b, cl.Run, nil
}
