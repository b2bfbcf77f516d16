package workers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	ctd "github.com/containerd/containerd/v2/client"

	"github.com/matrixbox/matrixbox/internal/daemonconfig"
	"github.com/matrixbox/matrixbox/sandbox"
)

// buildkitInfo asks a buildkitd for its version and workers.
func buildkitInfo(ctx context.Context, d dialer) (string, error) {
	c, err := dialBuildkitVia(d.dial)
	if err != nil {
		return "", err
	}
	defer c.Close()
	version, err := c.version(ctx)
	if err != nil {
		return "", err
	}
	ws, err := c.workerLabels(ctx)
	if err != nil {
		return "", err
	}
	var names []string
	for _, l := range ws {
		names = append(names, l["org.mobyproject.buildkit.worker.executor"]+"/"+l["org.mobyproject.buildkit.worker.snapshotter"])
	}
	return fmt.Sprintf("buildkitd %s, workers %s", version, strings.Join(names, ", ")), nil
}

// dockerdInfo asks a dockerd's API for its version.
func dockerdInfo(ctx context.Context, d dialer) (string, error) {
	api := &dockerAPI{hc: &http.Client{Transport: &http.Transport{
		DialContext:       func(ctx context.Context, _, _ string) (net.Conn, error) { return d.dial(ctx) },
		DisableKeepAlives: true,
	}}}
	var v struct{ Version, APIVersion, Os, Arch string }
	if err := api.do(ctx, http.MethodGet, "/version", nil, &v); err != nil {
		return "", err
	}
	if v.Version == "" {
		return "", errors.New("/version: not the Docker API")
	}
	return fmt.Sprintf("dockerd %s (API %s, %s/%s)", v.Version, v.APIVersion, v.Os, v.Arch), nil
}

// containerdInfo asks a containerd for its version.
func containerdInfo(ctx context.Context, sock string) (string, error) {
	c, err := ctd.New(sock, ctd.WithTimeout(5*time.Second))
	if err != nil {
		return "", err
	}
	defer c.Close()
	v, err := c.Version(ctx)
	if err != nil {
		return "", err
	}
	return "containerd " + v.Version, nil
}

// directCommands reach the daemon itself, with the TLS flags of buildctl
// or docker; none when the sandbox's address is the daemon's own.
func (w *remoteWorker) directCommands() []string {
	if w.ep.network != "tcp" {
		return nil
	}
	t := TLS{}
	if w.tls != nil {
		t = *w.tls
	}
	switch w.kind {
	case kindBuildkit:
		args := []string{toolPath("buildctl"), "--addr", w.address}
		for _, f := range [][2]string{{"--tlscacert", t.CA}, {"--tlscert", t.Cert}, {"--tlskey", t.Key}, {"--tlsservername", t.ServerName}} {
			if f[1] != "" {
				args = append(args, f[0], f[1])
			}
		}
		return []string{shellLine(append(args, "debug", "workers")...)}
	case kindDockerd:
		args := []string{toolPath("docker"), "--host", w.address}
		switch {
		case w.tls == nil:
		case t.Insecure:
			args = append(args, "--tls")
		default:
			args = append(args, "--tlsverify")
		}
		for _, f := range [][2]string{{"--tlscacert", t.CA}, {"--tlscert", t.Cert}, {"--tlskey", t.Key}} {
			if f[1] != "" {
				args = append(args, f[0], f[1])
			}
		}
		return []string{shellLine(append(args, "ps", "--all")...)}
	}
	return nil
}

// envMirrorListen is mirror.EnvListen, the variable that says where the
// mirror listens. The name is written out, not imported, so that workers
// does not link the mirror's registry server; a test checks the two agree.
const envMirrorListen = "MATRIXBOX_MIRROR_LISTEN"

// logMirror says, in the backend's log, what the daemon's owner must
// configure for it to pull through the mirror: matrixbox cannot write the
// configuration of a daemon it did not start.
func (w *remoteWorker) logMirror(cfg *sandbox.Config) {
	if cfg.Mirror == "" {
		return
	}
	name := w.logName()
	host, _, _ := net.SplitHostPort(cfg.Mirror)
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() && w.kind != kindContainerd {
		cfg.Logs.Printf(name, "matrixbox: the mirror's address here is %s, which a daemon in another network namespace does not reach: set %s to an address of this machine the daemon reaches, with a fixed port, and configure the daemon with that address (see the README, Remote workers)", cfg.Mirror, envMirrorListen)
	}
	dc, err := daemonconfig.New(cfg.Mirror, cfg.MirrorHosts)
	if err != nil {
		cfg.Logs.Printf(name, "matrixbox: mirror configuration: %v", err)
		return
	}
	var conf []byte
	switch w.kind {
	case kindBuildkit:
		conf, err = dc.BuildkitdTOML()
		cfg.Logs.Printf(name, "matrixbox: to pull through the mirror, the daemon's buildkitd.toml needs:\n%s", conf)
	case kindDockerd:
		conf, err = dc.DockerdJSON()
		cfg.Logs.Printf(name, "matrixbox: to pull through the mirror, the daemon's daemon.json needs:\n%s", conf)
	case kindContainerd:
		cfg.Logs.Printf(name, "matrixbox: sb.Cmd's image is pulled through the mirror by matrixbox itself; the daemon needs no configuration for it")
	}
	if err != nil {
		cfg.Logs.Printf(name, "matrixbox: mirror configuration: %v", err)
	}
}
