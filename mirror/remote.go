package mirror

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/distribution/reference"
)

// remoteSource pulls an image through from a registry, pinned by the digest
// its tag resolves to when first copied.
type remoteSource struct{ ref string }

// offlineHint says how to give an image that cannot be had offline a local
// source, in this package and in the BuildKit compat layer, whose suites
// name their images themselves.
const offlineHint = "a recipe:, oci-layout:, docker-archive: or rootfs: source, or, for a suite on compat/buildkit, a stand-in in MATRIXBOX_COMPAT_STANDINS=name=source"

func (s remoteSource) String() string { return s.ref }

// fingerprint: a remote is offline-first, so the source string alone says
// whether the copy made earlier still answers it.
func (s remoteSource) fingerprint(context.Context) (string, error) { return "", nil }

func (s remoteSource) resolve(ctx context.Context, _ *Mirror) (resolved, error) {
	named, err := reference.ParseDockerRef(s.ref)
	if err != nil {
		return resolved{}, fmt.Errorf("source %q: %w", s.ref, err)
	}
	ref := named.String()
	resolver := newResolver(dockerConfigCreds)
	name, desc, err := resolver.Resolve(ctx, ref)
	if err != nil {
		return resolved{}, fmt.Errorf("source %s: resolve on %s (unreachable, unknown or unauthorised; offline, mirror it from a local source instead: %s): %w",
			ref, reference.Domain(named), offlineHint, err)
	}
	fetcher, err := resolver.Fetcher(ctx, name)
	if err != nil {
		return resolved{}, fmt.Errorf("source %s: %w", ref, err)
	}
	return resolved{
		desc:     desc,
		provider: streamProvider{fetch: fetcher.Fetch},
		pinned:   reference.TrimNamed(named).String() + "@" + desc.Digest.String(),
	}, nil
}

// newResolver speaks plain HTTP to loopback registries (the mirror, private
// test registries) and HTTPS elsewhere, with creds for authentication.
func newResolver(creds func(host string) (string, string, error)) remotes.Resolver {
	client := &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		MaxIdleConnsPerHost:   8,
	}}
	opts := []docker.RegistryOpt{
		docker.WithPlainHTTP(docker.MatchLocalhost),
		docker.WithClient(client),
	}
	if creds != nil {
		opts = append(opts, docker.WithAuthorizer(docker.NewDockerAuthorizer(
			docker.WithAuthClient(client), docker.WithAuthCreds(creds))))
	}
	return docker.NewResolver(docker.ResolverOptions{Hosts: docker.ConfigureDefaultRegistries(opts...)})
}

// dockerConfigCreds answers credentials for host from the docker client's
// config ($DOCKER_CONFIG/config.json or ~/.docker/config.json): a
// credential helper when one is named for host, else the "auths" entry.
func dockerConfigCreds(host string) (string, string, error) {
	cfg, err := readDockerConfig()
	if err != nil || cfg == nil {
		return "", "", err
	}
	keys := []string{host, "https://" + host, "http://" + host}
	if host == "registry-1.docker.io" || host == DockerHub {
		keys = append(keys, "https://index.docker.io/v1/", "index.docker.io", DockerHub)
	}
	for _, k := range keys {
		if helper := cfg.CredHelpers[k]; helper != "" {
			return credHelper(helper, k)
		}
	}
	for _, k := range keys {
		a, ok := cfg.Auths[k]
		if !ok {
			continue
		}
		if a.IdentityToken != "" {
			return "", a.IdentityToken, nil
		}
		if a.Auth != "" {
			b, err := base64.StdEncoding.DecodeString(a.Auth)
			if err != nil {
				return "", "", fmt.Errorf("docker config: auth for %s: %w", k, err)
			}
			user, pass, ok := strings.Cut(string(b), ":")
			if !ok {
				return "", "", fmt.Errorf("docker config: auth for %s is not user:password", k)
			}
			return user, pass, nil
		}
		return a.Username, a.Password, nil
	}
	if cfg.CredsStore != "" {
		return credHelper(cfg.CredsStore, keys[0])
	}
	return "", "", nil
}

type dockerConfig struct {
	Auths map[string]struct {
		Auth          string `json:"auth"`
		Username      string `json:"username"`
		Password      string `json:"password"`
		IdentityToken string `json:"identitytoken"`
	} `json:"auths"`
	CredsStore  string            `json:"credsStore"`
	CredHelpers map[string]string `json:"credHelpers"`
}

func readDockerConfig() (*dockerConfig, error) {
	dir := os.Getenv("DOCKER_CONFIG")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, nil
		}
		dir = filepath.Join(home, ".docker")
	}
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("docker config: %w", err)
	}
	var cfg dockerConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("docker config %s: %w", path, err)
	}
	return &cfg, nil
}

// credHelper runs docker-credential-<name> get, as the docker client does.
func credHelper(name, server string) (string, string, error) {
	cmd := exec.Command("docker-credential-"+name, "get")
	cmd.Stdin = strings.NewReader(server)
	out, err := cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("credential helper docker-credential-%s for %s: %w", name, server, err)
	}
	var c struct{ Username, Secret string }
	if err := json.Unmarshal(out, &c); err != nil {
		return "", "", fmt.Errorf("credential helper docker-credential-%s: %w", name, err)
	}
	if c.Username == "<token>" {
		return "", c.Secret, nil
	}
	return c.Username, c.Secret, nil
}
