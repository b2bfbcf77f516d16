package daemonconfig

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

func TestNewRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		addr  string
		hosts []string
		want  string
	}{
		{"localhost", nil, `mirror address "localhost"`},
		{"127.0.0.1:5000", []string{"ghcr.io/x"}, `registry host "ghcr.io/x"`},
		{"127.0.0.1:5000", []string{`a"b`}, `registry host "a\"b"`},
	} {
		if _, err := New(tc.addr, tc.hosts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%q, %q) err = %v, want %s", tc.addr, tc.hosts, err, tc.want)
		}
	}
}

func TestConfigBuildkitd(t *testing.T) {
	c, err := New("127.0.0.1:5000", []string{"ghcr.io", "index.docker.io", "docker.io", "localhost:6000"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Hosts, ",") != "docker.io,ghcr.io,localhost:6000" {
		t.Fatalf("hosts = %v", c.Hosts)
	}
	b, err := c.BuildkitdTOML()
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Registry map[string]BuildkitdRegistry `toml:"registry"`
	}
	if err := toml.Unmarshal(b, &got); err != nil {
		t.Fatalf("buildkitd.toml does not parse: %v\n%s", err, b)
	}
	want := map[string]string{
		"docker.io":      "127.0.0.1:5000",
		"ghcr.io":        "127.0.0.1:5000/ghcr.io",
		"localhost:6000": "127.0.0.1:5000/localhost_6000",
	}
	for h, m := range want {
		if r := got.Registry[h]; len(r.Mirrors) != 1 || r.Mirrors[0] != m {
			t.Errorf("registry %q = %+v, want mirror %s\n%s", h, r, m, b)
		}
	}
	if !got.Registry["127.0.0.1:5000"].HTTP {
		t.Errorf("the mirror itself is not marked http:\n%s", b)
	}
	if len(got.Registry) != 4 {
		t.Errorf("%d registries, want 4:\n%s", len(got.Registry), b)
	}
}

func TestConfigContainerdHosts(t *testing.T) {
	c, err := New("127.0.0.1:5000", []string{"docker.io", "ghcr.io"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := c.WriteContainerdHosts(dir); err != nil {
		t.Fatal(err)
	}
	read := func(host string) containerdHosts {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, host, "hosts.toml"))
		if err != nil {
			t.Fatal(err)
		}
		var h containerdHosts
		if err := toml.Unmarshal(b, &h); err != nil {
			t.Fatalf("%s/hosts.toml: %v\n%s", host, err, b)
		}
		return h
	}
	hub := read("docker.io")
	if e, ok := hub.Host["http://127.0.0.1:5000"]; hub.Server != "https://registry-1.docker.io" || !ok || e.OverridePath {
		t.Errorf("docker.io hosts.toml = %+v", hub)
	}
	gh := read("ghcr.io")
	if e, ok := gh.Host["http://127.0.0.1:5000/v2/ghcr.io"]; !ok || !e.OverridePath || strings.Join(e.Capabilities, ",") != "pull,resolve" {
		t.Errorf("ghcr.io hosts.toml = %+v", gh)
	}
	if self := read("127.0.0.1:5000"); self.Server != "http://127.0.0.1:5000" {
		t.Errorf("mirror's own hosts.toml = %+v", self)
	}
}

func TestConfigDockerd(t *testing.T) {
	c, err := New("127.0.0.1:5000", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.DockerdJSON()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string][]string
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got["registry-mirrors"], ",") != "http://127.0.0.1:5000" || strings.Join(got["insecure-registries"], ",") != "127.0.0.1:5000" {
		t.Errorf("daemon.json = %s", b)
	}
}

func ExampleConfig_BuildkitdTOML() {
	c, _ := New("127.0.0.1:5000", []string{"docker.io", "ghcr.io"})
	b, _ := c.BuildkitdTOML()
	os.Stdout.Write(b)
	// Output:
	// [registry]
	// [registry.'127.0.0.1:5000']
	// http = true
	//
	// [registry.'docker.io']
	// mirrors = ['127.0.0.1:5000']
	//
	// [registry.'ghcr.io']
	// mirrors = ['127.0.0.1:5000/ghcr.io']
}
