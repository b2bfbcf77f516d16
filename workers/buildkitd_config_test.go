package workers

import (
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

func TestMergeTOML(t *testing.T) {
	base := []byte(`root = "/r"
debug = true

[worker.oci]
enabled = true
gc = false

[registry."docker.io"]
mirrors = ["127.0.0.1:5000"]
`)
	frag := `
insecure-entitlements = ["security.insecure"]

[worker.oci]
networkMode = "cni"
gc = true

[dns]
nameservers = ["10.11.0.1"]
`
	got, err := mergeTOML(base, frag)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Root         string   `toml:"root"`
		Debug        bool     `toml:"debug"`
		Entitlements []string `toml:"insecure-entitlements"`
		Worker       struct {
			OCI struct {
				Enabled     bool   `toml:"enabled"`
				GC          bool   `toml:"gc"`
				NetworkMode string `toml:"networkMode"`
			} `toml:"oci"`
		} `toml:"worker"`
		Registry map[string]struct {
			Mirrors []string `toml:"mirrors"`
		} `toml:"registry"`
		DNS struct {
			Nameservers []string `toml:"nameservers"`
		} `toml:"dns"`
	}
	if err := toml.Unmarshal(got, &m); err != nil {
		t.Fatalf("merged config does not parse: %v\n%s", err, got)
	}
	var bad []string
	check := func(what string, ok bool) {
		if !ok {
			bad = append(bad, what)
		}
	}
	check("root kept", m.Root == "/r")
	check("debug kept", m.Debug)
	check("entitlements added", len(m.Entitlements) == 1 && m.Entitlements[0] == "security.insecure")
	check("worker.oci.enabled kept", m.Worker.OCI.Enabled)
	check("worker.oci.gc: fragment wins", m.Worker.OCI.GC)
	check("worker.oci.networkMode added", m.Worker.OCI.NetworkMode == "cni")
	check("registry kept", len(m.Registry["docker.io"].Mirrors) == 1)
	check("dns added", len(m.DNS.Nameservers) == 1)
	if len(bad) > 0 {
		t.Errorf("merge: %s\n%s", strings.Join(bad, "; "), got)
	}
	again, err := mergeTOML(base, frag)
	if err != nil || string(again) != string(got) {
		t.Errorf("merge is not deterministic:\n%s\n----\n%s", got, again)
	}
}

func TestMergeTOMLEmptyFragmentKeepsBase(t *testing.T) {
	base := []byte("root = \"/r\"\n")
	got, err := mergeTOML(base, "  \n# nothing\n")
	if err != nil || string(got) != string(base) {
		t.Fatalf("got %q, %v; want the base unchanged", got, err)
	}
}

func TestMergeTOMLBadFragment(t *testing.T) {
	_, err := mergeTOML([]byte("root = \"/r\"\n"), "insecure-entitlements = [")
	if err == nil || !strings.Contains(err.Error(), "read fragment") {
		t.Fatalf("got %v, want an error about the fragment", err)
	}
}
