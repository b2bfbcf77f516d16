package workers

import "github.com/matrixbox/matrixbox/sandbox"

// DockerHost is implemented by a backend that serves Docker's API besides
// BuildKit's (the [Dockerd] worker's), and by a Sandbox wrapper that
// forwards it.
type DockerHost interface {
	// DockerAddress is the Docker API endpoint, e.g.
	// "unix:///tmp/mbx-1-2/b/docker.sock".
	DockerAddress() string
}

// DockerAddress returns the Docker API endpoint of sb: its own when sb
// implements [DockerHost], else its backend's (through
// [sandbox.Backender]); "" when it has none. sb.Cmd exports the same
// address as DOCKER_HOST, while sb.Address() is BuildKit's.
func DockerAddress(sb sandbox.Sandbox) string {
	if d, ok := sb.(DockerHost); ok {
		return d.DockerAddress()
	}
	if d, ok := sandbox.BackendOf(sb).(DockerHost); ok {
		return d.DockerAddress()
	}
	return ""
}
