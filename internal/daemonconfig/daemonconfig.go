package daemonconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Config is what a daemon needs to pull through a mirror: the
// mirror's host:port and the registry hosts whose images it holds. Its
// methods render the daemon-side configuration as structured data (TOML and
// JSON encoders, never text templates), so that a host or address can never
// break the file's syntax.
type Config struct {
	// Addr is the mirror's host:port; it serves plain HTTP.
	Addr string
	// Hosts are the registries mirrored, e.g. "docker.io", "ghcr.io".
	Hosts []string
}

// New checks addr and hosts and returns the configuration for
// them, hosts sorted and without duplicates. An empty hosts list means
// docker.io alone.
func New(addr string, hosts []string) (Config, error) {
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
		return Config{}, fmt.Errorf("mirror address %q: want host:port", addr)
	}
	c := Config{Addr: addr}
	if len(hosts) == 0 {
		hosts = []string{dockerHubHost}
	}
	for _, h := range hosts {
		if h == "" || strings.ContainsAny(h, "/ \t\n\"'\\") {
			return Config{}, fmt.Errorf("registry host %q: want a bare host or host:port", h)
		}
		if isDockerHub(h) {
			h = dockerHubHost
		}
		c.Hosts = append(c.Hosts, h)
	}
	slices.Sort(c.Hosts)
	c.Hosts = slices.Compact(c.Hosts)
	return c, nil
}

const dockerHubHost = "docker.io"

func isDockerHub(h string) bool {
	return h == dockerHubHost || h == "index.docker.io" || h == "registry-1.docker.io"
}

// RepoPrefix is the path, ending in "/", under which the mirror keeps the
// repositories of registry host; "" for docker.io. A repository path
// element may not hold ':', so "localhost:5000" becomes "localhost_5000".
func RepoPrefix(host string) string {
	if isDockerHub(host) {
		return ""
	}
	return strings.ToLower(strings.ReplaceAll(host, ":", "_")) + "/"
}

// BuildkitdRegistry is one [registry."host"] table of buildkitd.toml.
type BuildkitdRegistry struct {
	Mirrors  []string `toml:"mirrors,omitempty"`
	HTTP     bool     `toml:"http,omitempty"`
	Insecure bool     `toml:"insecure,omitempty"`
}

// BuildkitdRegistries returns the registry tables of buildkitd.toml: each
// mirrored host gets the mirror (with the host's repository prefix), and the
// mirror's own address is marked plain HTTP so that images can also be
// pulled from it by name.
func (c Config) BuildkitdRegistries() map[string]BuildkitdRegistry {
	regs := map[string]BuildkitdRegistry{c.Addr: {HTTP: true}}
	for _, h := range c.Hosts {
		m := c.Addr
		if p := RepoPrefix(h); p != "" {
			m += "/" + strings.TrimSuffix(p, "/")
		}
		regs[h] = BuildkitdRegistry{Mirrors: []string{m}}
	}
	return regs
}

// BuildkitdTOML renders a buildkitd.toml holding only the registry tables;
// workers that need more sections marshal BuildkitdRegistries into their own
// structure.
func (c Config) BuildkitdTOML() ([]byte, error) {
	b, err := toml.Marshal(struct {
		Registry map[string]BuildkitdRegistry `toml:"registry"`
	}{c.BuildkitdRegistries()})
	if err != nil {
		return nil, fmt.Errorf("render buildkitd.toml: %w", err)
	}
	return b, nil
}

type containerdHosts struct {
	Server string                    `toml:"server,omitempty"`
	Host   map[string]containerdHost `toml:"host"`
}

type containerdHost struct {
	Capabilities []string `toml:"capabilities"`
	SkipVerify   bool     `toml:"skip_verify,omitempty"`
	OverridePath bool     `toml:"override_path,omitempty"`
}

// ContainerdHosts returns the hosts.toml files of a containerd
// config_path directory (certs.d), keyed by their path relative to it:
// "<host>/hosts.toml" for each mirrored host and for the mirror itself.
func (c Config) ContainerdHosts() (map[string][]byte, error) {
	files := map[string][]byte{}
	add := func(host string, h containerdHosts) error {
		b, err := toml.Marshal(h)
		if err != nil {
			return fmt.Errorf("render hosts.toml of %s: %w", host, err)
		}
		files[filepath.Join(host, "hosts.toml")] = b
		return nil
	}
	// The mirror takes no pushes: pull and resolve only, for it too.
	pull := []string{"pull", "resolve"}
	if err := add(c.Addr, containerdHosts{
		Server: "http://" + c.Addr,
		Host:   map[string]containerdHost{"http://" + c.Addr: {Capabilities: pull}},
	}); err != nil {
		return nil, err
	}
	for _, h := range c.Hosts {
		server := "https://" + h
		if h == dockerHubHost {
			server = "https://registry-1.docker.io"
		}
		entry := containerdHost{Capabilities: pull}
		url := "http://" + c.Addr
		if p := RepoPrefix(h); p != "" {
			// override_path: the URL is the full API root, so the
			// host's repositories resolve under its prefix.
			url += "/v2/" + strings.TrimSuffix(p, "/")
			entry.OverridePath = true
		}
		if err := add(h, containerdHosts{Server: server, Host: map[string]containerdHost{url: entry}}); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// WriteContainerdHosts writes ContainerdHosts under dir, the config_path of
// containerd's registry configuration (and of the Go client's resolver).
func (c Config) WriteContainerdHosts(dir string) error {
	files, err := c.ContainerdHosts()
	if err != nil {
		return err
	}
	var errs []error
	for rel, b := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("write containerd hosts under %s: %w", dir, err)
	}
	return nil
}

// DockerdRegistry is the registry part of dockerd's daemon.json.
type DockerdRegistry struct {
	// Mirrors are used for docker.io only; dockerd has no mirrors for
	// other registries, whose images are pulled from the mirror by name.
	Mirrors []string `json:"registry-mirrors,omitempty"`
	// Insecure lets dockerd talk plain HTTP to the mirror.
	Insecure []string `json:"insecure-registries,omitempty"`
}

// Dockerd returns the registry settings of dockerd's daemon.json.
func (c Config) Dockerd() DockerdRegistry {
	return DockerdRegistry{Mirrors: []string{"http://" + c.Addr}, Insecure: []string{c.Addr}}
}

// DockerdJSON renders a daemon.json holding only the registry settings.
func (c Config) DockerdJSON() ([]byte, error) {
	b, err := json.MarshalIndent(c.Dockerd(), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render daemon.json: %w", err)
	}
	return b, nil
}
