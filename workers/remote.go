package workers

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/matrixbox/matrixbox/internal/remote"
	"github.com/matrixbox/matrixbox/sandbox"
)

// The kinds of daemon of the workers (each worker's Kind method). A remote
// worker given in matrixbox.yaml or the environment joins the Runs that
// have a worker of its kind.
const (
	kindBuildkit   = "buildkit"
	kindDockerd    = "dockerd"
	kindContainerd = "containerd"
)

// checkTimeout bounds a remote worker's Check: a daemon that does not
// answer by then has its cells skipped.
const checkTimeout = 15 * time.Second

// remoteOptions are the options only remote workers read.
type remoteOptions struct {
	tls       *TLS
	tlsDir    string
	namespace string
}

// WithNamespace sets the prefix of the containerd namespaces a
// RemoteContainerd worker makes, one per backend (default "matrixbox").
func WithNamespace(prefix string) Option {
	return option("WithNamespace", func(o *options) { o.remote.namespace = prefix })
}

// remoteWorker is a worker whose backends are a daemon that matrixbox did
// not start: New attaches to it, the stop detaches, and nothing ever stops
// or signals the daemon (there is no process of ours to signal).
type remoteWorker struct {
	kind    string
	opts    options
	address string
	ep      endpoint
	tls     *TLS        // nil: no TLS
	tc      *tls.Config // from tls
	// err is what is wrong with the worker's own settings; Check reports
	// it, so its cells never run.
	err error
}

// RemoteBuildkit returns a worker named name whose cells run on the
// buildkitd at address, which matrixbox did not start and never stops:
// "unix:///run/buildkit/buildkitd.sock", or "tcp://host:port" with
// WithTLS or WithTLSDir (the files of buildctl --tlscacert, --tlscert,
// --tlskey). sb.Address() is a BuildKit address for client.New and
// buildctl --addr: the daemon's own unix socket, or, over TCP, a unix
// socket of the sandbox that forwards to it, so that tests need no
// certificates. Backends export BUILDKIT_HOST.
//
// The daemon's state (cache, history) is shared by every case run on it,
// but for integration.ResetBackend cases, between which the whole daemon
// is wiped; see the README's "Remote workers", also for what the daemon's
// owner must configure (the registry mirror).
func RemoteBuildkit(name, address string, opts ...Option) sandbox.Worker {
	return newRemote(kindBuildkit, name, address, opts)
}

// RemoteDockerd returns a worker named name whose cells run on the dockerd
// at address, a DOCKER_HOST: "unix:///var/run/docker.sock" or
// "tcp://host:port". Over TCP, TLS is set by WithTLS or WithTLSDir, or else
// as the docker CLI sets it: DOCKER_TLS_VERIFY (verify the daemon with
// $DOCKER_CERT_PATH/ca.pem) or DOCKER_TLS (encrypt without verifying),
// with the client certificate of DOCKER_CERT_PATH (default ~/.docker) when
// it has one. As on [Dockerd], sb.Address() is a BuildKit address for
// client.New (a socket of the sandbox forwarding to the daemon's
// BuildKit), and the Docker API, [DockerAddress], is the daemon's own unix
// socket or, over TCP, a unix socket of the sandbox that forwards to it.
// Backends export BUILDKIT_HOST and DOCKER_HOST. The daemon's images, containers and volumes
// are shared by every case run on it; between integration.ResetBackend
// cases, what appeared since the backend attached is removed.
func RemoteDockerd(name, address string, opts ...Option) sandbox.Worker {
	w := newRemote(kindDockerd, name, address, opts)
	if w.err == nil && w.ep.network == "tcp" && w.tls == nil {
		if w.tls, w.err = dockerEnvTLS(); w.err == nil {
			w.err = w.setTLS()
		}
	}
	return w
}

// RemoteContainerd returns a worker named name whose cells run on the
// containerd at address, its socket ("/run/containerd/containerd.sock" or
// "unix:///run/containerd/containerd.sock"), on this machine: sb.Cmd runs
// in a container of the cell's image, as on the Containerd worker. Each
// backend works in a namespace of its own (WithNamespace's prefix, then the
// backend's directory name, e.g. "matrixbox-mbx-1234.5678-901"), so that cases
// of other cells, Runs and processes never see its containers and images;
// its stop deletes everything in that namespace and the namespace itself,
// a reset (integration.ResetBackend) everything in it, and neither touches
// another. Backends export CONTAINERD_ADDRESS and CONTAINERD_NAMESPACE.
func RemoteContainerd(name, address string, opts ...Option) sandbox.Worker {
	return newRemote(kindContainerd, name, address, opts)
}

func newRemote(kind, name, address string, opts []Option) *remoteWorker {
	ctor := map[string]string{kindBuildkit: ctorRemoteBuildkit, kindDockerd: ctorRemoteDockerd, kindContainerd: ctorRemoteContainerd}[kind]
	w := &remoteWorker{kind: kind, opts: newOptions(ctor, name, opts), address: address}
	if w.err = w.opts.err; w.err != nil {
		return w
	}
	if err := checkWorkerName(w.opts.name); err != nil {
		w.err = err
		return w
	}
	w.ep, w.err = parseEndpoint(address, kind == kindContainerd)
	if w.err != nil {
		return w
	}
	switch {
	case kind == kindContainerd && w.ep.network != "unix":
		w.err = fmt.Errorf("address %q: a containerd is reached over its unix socket on this machine (sb.Cmd enters its containers)", address)
	case w.opts.remote.tls != nil && w.opts.remote.tlsDir != "":
		w.err = errors.New("WithTLS and WithTLSDir together: give one")
	}
	if w.err != nil {
		return w
	}
	if w.opts.remote.tlsDir != "" {
		t, err := tlsFromDir(w.opts.remote.tlsDir)
		if err != nil {
			w.err = err
			return w
		}
		w.tls = &t
	} else {
		w.tls = w.opts.remote.tls
	}
	if w.err = w.setTLS(); w.err != nil {
		return w
	}
	if ns := w.namespacePrefix(); !validNamespace(ns) {
		w.err = fmt.Errorf("WithNamespace(%q): a containerd namespace is letters and digits, joined by single '.', '_' or '-'", ns)
	}
	return w
}

// setTLS loads w.tls once, so that a missing or broken file is found by
// Check, before any cell runs.
func (w *remoteWorker) setTLS() error {
	if w.tls == nil {
		w.tc = nil
		return nil
	}
	if w.ep.network != "tcp" {
		return errNoTLSOverUnix
	}
	tc, err := w.tls.config(w.ep.host())
	if err != nil {
		return err
	}
	w.tc = tc
	return nil
}

// dockerEnvTLS is the TLS the docker CLI would use for a tcp:// DOCKER_HOST
// from DOCKER_TLS_VERIFY, DOCKER_TLS and DOCKER_CERT_PATH; nil when they ask
// for none.
func dockerEnvTLS() (*TLS, error) {
	verify, plain := os.Getenv("DOCKER_TLS_VERIFY") != "", os.Getenv("DOCKER_TLS") != ""
	if !verify && !plain {
		return nil, nil
	}
	dir := os.Getenv("DOCKER_CERT_PATH")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("DOCKER_CERT_PATH unset and no home directory: %w", err)
		}
		dir = filepath.Join(home, ".docker")
	}
	t := TLS{Insecure: !verify}
	if p := filepath.Join(dir, "cert.pem"); fileExists(p) {
		t.Cert, t.Key = p, filepath.Join(dir, "key.pem")
	}
	if verify {
		t.CA = filepath.Join(dir, "ca.pem")
		if !fileExists(t.CA) {
			return nil, fmt.Errorf("DOCKER_TLS_VERIFY is set but %s does not exist (DOCKER_CERT_PATH=%q)", t.CA, os.Getenv("DOCKER_CERT_PATH"))
		}
	}
	return &t, nil
}

func checkWorkerName(n string) error {
	if n == "" || strings.ContainsAny(n, "/=, \t\n|") {
		return fmt.Errorf("worker name %q: want a non-empty name without '/', '=', ',', '|' or spaces", n)
	}
	return nil
}

func (w *remoteWorker) namespacePrefix() string {
	if w.opts.remote.namespace != "" {
		return w.opts.remote.namespace
	}
	return containerdNamespace
}

func validNamespace(ns string) bool {
	if ns == "" {
		return false
	}
	prevSep := true
	for _, r := range ns {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			prevSep = false
		case r == '.' || r == '_' || r == '-':
			if prevSep {
				return false
			}
			prevSep = true
		default:
			return false
		}
	}
	return !prevSep
}

func (w *remoteWorker) Name() string { return w.opts.name }

// Kind is the kind of daemon: kindBuildkit, kindDockerd or kindContainerd.
func (w *remoteWorker) Kind() string { return w.kind }

// RemoteAddress is the daemon's address as given.
func (w *remoteWorker) RemoteAddress() string { return w.address }

// Supports reports whether the worker was declared to have feature
// (WithFeatures): matrixbox cannot know what a daemon it did not start has.
func (w *remoteWorker) Supports(feature string) bool { return w.opts.supports(feature) }

// Check reports a setting of the worker that is wrong, then whether the
// daemon answers within checkTimeout; its cells are skipped (failed in
// strict mode) when it does not.
func (w *remoteWorker) Check() error {
	if w.err != nil {
		return w.err
	}
	if w.kind == kindContainerd {
		if err := lookBinaries("nsenter"); err != nil {
			return err
		}
		if w.opts.image == "" {
			if err := checkStaticBusybox(); err != nil {
				return err
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	defer cancel()
	if _, err := w.ping(ctx); err != nil {
		return fmt.Errorf("remote %s at %s does not answer: %w", w.kind, w.address, err)
	}
	return nil
}

// ping asks the daemon who it is; the answer is logged by New.
func (w *remoteWorker) ping(ctx context.Context) (string, error) {
	d := dialer{ep: w.ep, tc: w.tc}
	switch w.kind {
	case kindBuildkit:
		return buildkitInfo(ctx, d)
	case kindDockerd:
		return dockerdInfo(ctx, d)
	default:
		return containerdInfo(ctx, w.ep.addr)
	}
}

func (w *remoteWorker) New(ctx context.Context, cfg *sandbox.Config) (_ sandbox.Backend, _ func() error, err error) {
	if w.err != nil {
		return nil, nil, w.err
	}
	cl := &sandbox.Cleanups{}
	defer func() {
		if err != nil {
			// Each error of the undoing is named by its cleanup.
			err = errors.Join(err, cl.Run())
		}
	}()
	d := dialer{ep: w.ep, tc: w.tc}
	address := w.address
	if w.ep.network == "unix" {
		address = "unix://" + w.ep.addr
	}
	if w.ep.network == "tcp" {
		// The sandbox's clients, and the wipe of ResetBackend, speak
		// plain gRPC or HTTP to a socket of the sandbox, as on a local
		// worker; the forwarding socket (forward) carries it to the daemon, doing the TLS.
		sock := filepath.Join(cfg.Dir, w.kind+".sock")
		f, err := forward(sock, d.dial, cfg.Logs.Writer(w.logName()))
		if err != nil {
			return nil, nil, err
		}
		cl.Add("stop forwarding to "+w.address, f.Close)
		address = "unix://" + sock
		d = dialer{ep: endpoint{"unix", sock}}
	}
	pctx, cancel := context.WithTimeout(ctx, checkTimeout)
	info, err := w.ping(pctx)
	cancel()
	if err != nil {
		return nil, nil, fmt.Errorf("remote %s at %s does not answer: %w", w.kind, w.address, err)
	}
	cfg.Logs.Printf(w.logName(), "matrixbox: remote %s %s at %s (sandbox address %s): %s; matrixbox did not start this daemon and will not stop it",
		w.kind, w.Name(), w.address, address, info)
	w.logMirror(cfg)
	b := backend{address: address, features: w.opts.features}
	rb := &remoteBackend{worker: w}
	switch w.kind {
	case kindBuildkit:
		b.env = []string{"BUILDKIT_HOST=" + address}
		// ResetBackend wipes the whole daemon, as on a local buildkitd.
		wiper := &buildkitWiper{address: address}
		cl.Add("close buildkitd control connection", wiper.close)
		b.reset = wiper.reset
	case kindDockerd:
		// As on a local dockerd, sb.Address() is BuildKit's and the
		// Docker API is DOCKER_HOST and DockerAddress.
		dockerSock := strings.TrimPrefix(address, "unix://")
		bkSock := filepath.Join(cfg.Dir, "buildkit.sock")
		proxy, err := serveBuildkit(bkSock, dockerSock, cfg.Logs.Writer(w.logName()))
		if err != nil {
			return nil, nil, err
		}
		cl.Add("close the BuildKit socket", proxy.Close)
		b.address = "unix://" + bkSock
		b.env = []string{"BUILDKIT_HOST=" + b.address, "DOCKER_HOST=" + address}
		// ResetBackend removes what was not there when the backend
		// attached, as on a local dockerd.
		api := newDockerAPI(dockerSock)
		keep, err := api.state(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("remote dockerd at %s: %w", w.address, err)
		}
		b.reset = func(ctx context.Context) error { return wipeDockerd(ctx, api, keep) }
		rb.backend = b
		return &remoteDockerdBackend{remoteBackend: rb, docker: address}, cl.Run, nil
	case kindContainerd:
		cb, err := w.attachContainerd(ctx, cfg, b, cl)
		if err != nil {
			return nil, nil, err
		}
		return &remoteContainerBackend{containerBackend: cb, remote: rb}, cl.Run, nil
	}
	rb.backend = b
	return rb, cl.Run, nil
}

func (w *remoteWorker) logName() string { return "remote-" + w.kind }

// remoteBackend is a backend on a daemon matrixbox did not start: it has
// no process, so nothing of it can be stopped or signalled.
type remoteBackend struct {
	backend
	worker *remoteWorker
}

// remoteDockerdBackend is a backend on a remote dockerd: BuildKit's API at
// Address, Docker's at DockerAddress.
type remoteDockerdBackend struct {
	*remoteBackend
	docker string
}

// DockerAddress is the Docker API's endpoint, also DOCKER_HOST in sb.Cmd.
func (b *remoteDockerdBackend) DockerAddress() string { return b.docker }

// AttachCommands are the local worker's lines for the sandbox's address,
// then the same command straight at the daemon, TLS flags included.
func (b *remoteBackend) AttachCommands() []string {
	return append(b.backend.AttachCommands(), b.worker.directCommands()...)
}

// RemoteAddress is the daemon's address as given to the worker.
func (b *remoteBackend) RemoteAddress() string { return b.worker.address }

// features of a remote worker given in matrixbox.yaml or the environment
// are a list; "|" separates them in a variable.
func splitFeatures(s string) []string {
	var out []string
	for _, f := range strings.Split(s, "|") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// remoteOptionKeys are the keys a RemoteSpec of each kind may carry.
var remoteOptionKeys = map[string][]string{
	kindBuildkit:   {"features", "tlscacert", "tlscert", "tlsdir", "tlskey", "tlsservername"},
	kindDockerd:    {"certpath", "features", "tls", "tlscacert", "tlscert", "tlskey", "tlsverify"},
	kindContainerd: {"features", "image", "namespace"},
}

// fromSpec makes the remote worker of kind from matrixbox.yaml or the
// environment; every setting is checked here, so that a wrong one fails
// the Run naming it.
func fromSpec(kind string) remote.Constructor {
	return func(s remote.Spec) (sandbox.Worker, error) {
		keys := make([]string, 0, len(s.Options))
		for k := range s.Options {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var opts []Option
		var t TLS
		var useTLS, docker, dockerVerify bool
		var certPath string
		for _, k := range keys {
			v := s.Options[k]
			if !slices.Contains(remoteOptionKeys[kind], k) {
				return nil, fmt.Errorf("unknown option %q for a %s daemon (known: %s)", k, kind, strings.Join(remoteOptionKeys[kind], ", "))
			}
			if v == "" {
				return nil, fmt.Errorf("option %s: empty value", k)
			}
			switch k {
			case "features":
				opts = append(opts, WithFeatures(splitFeatures(v)...))
			case "image":
				opts = append(opts, WithImage(v))
			case "namespace":
				opts = append(opts, WithNamespace(v))
			case "tlsdir":
				opts = append(opts, WithTLSDir(v))
			case "tlscacert":
				t.CA, useTLS = v, true
			case "tlscert":
				t.Cert, useTLS = v, true
			case "tlskey":
				t.Key, useTLS = v, true
			case "tlsservername":
				t.ServerName, useTLS = v, true
			case "certpath":
				certPath = v
			case "tls", "tlsverify":
				on, err := strconv.ParseBool(v)
				if err != nil {
					return nil, fmt.Errorf("option %s=%q: want true or false", k, v)
				}
				if on {
					docker = true
					dockerVerify = dockerVerify || k == "tlsverify"
				}
			}
		}
		if certPath != "" {
			if !docker {
				return nil, errors.New("option certpath: give tlsverify=true (or tls=true) too, as DOCKER_CERT_PATH needs DOCKER_TLS_VERIFY")
			}
			if useTLS {
				return nil, errors.New("options certpath and tlscacert/tlscert/tlskey together: give one")
			}
			if !dockerVerify {
				t.Insecure = true
			} else {
				t.CA = filepath.Join(certPath, "ca.pem")
			}
			if p := filepath.Join(certPath, "cert.pem"); fileExists(p) {
				t.Cert, t.Key = p, filepath.Join(certPath, "key.pem")
			}
			useTLS = true
		} else if docker {
			useTLS = true
			t.Insecure = !dockerVerify
		}
		if useTLS {
			opts = append(opts, WithTLS(t))
		}
		var w *remoteWorker
		switch kind {
		case kindDockerd:
			w = RemoteDockerd(s.Name, s.Address, opts...).(*remoteWorker)
		default:
			w = newRemote(kind, s.Name, s.Address, opts)
		}
		if w.err != nil {
			return nil, w.err
		}
		return w, nil
	}
}

func init() {
	for _, k := range []string{kindBuildkit, kindDockerd, kindContainerd} {
		remote.Register(k, fromSpec(k))
	}
}
