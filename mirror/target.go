package mirror

import (
	"fmt"

	"github.com/distribution/reference"

	"github.com/matrixbox/matrixbox/internal/daemonconfig"
)

// target is where an image lives in the mirror.
type target struct {
	name string // as the caller wrote it
	host string // the registry it belongs to: "docker.io", "ghcr.io", ...
	repo string // repository path inside the mirror
	tag  string // "" when pinned by digest only
}

// DockerHub is the registry host of names without one ("busybox",
// "library/busybox").
const DockerHub = "docker.io"

// parseTarget reads a target name the way docker does ("busybox" means
// docker.io/library/busybox:latest).
//
// Images of docker.io sit at the root of the mirror (library/busybox), as
// every daemon's docker.io mirror setting expects; images of any other
// registry sit under a first path element naming it (ghcr.io/owner/name), so
// names from two registries never collide. See RepoPrefix.
func parseTarget(name string) (target, error) {
	named, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return target{}, fmt.Errorf("target %q: %w", name, err)
	}
	t := target{name: name, host: reference.Domain(named)}
	if tagged, ok := named.(reference.Tagged); ok {
		t.tag = tagged.Tag()
	}
	if _, ok := named.(reference.Digested); ok {
		return target{}, fmt.Errorf("target %q: give a tag, not a digest: the mirror serves what the tag names", name)
	}
	if t.tag == "" {
		t.tag = "latest"
	}
	t.repo = RepoPrefix(t.host) + reference.Path(named)
	return t, nil
}

// RepoPrefix is the path, ending in "/", under which the mirror keeps the
// repositories of registry host; "" for docker.io. A daemon's mirror entry
// for host is the mirror's address followed by this prefix (containerd
// hosts.toml: http://ADDR/v2/PREFIX with override_path; buildkitd:
// mirrors = ["ADDR/PREFIX"]).
func RepoPrefix(host string) string { return daemonconfig.RepoPrefix(host) }
