package workers

import (
	"os"
	"path/filepath"

	"github.com/matrixbox/matrixbox/sandbox"
)

// CDIHost is implemented by a backend whose buildkitd reads CDI device
// specs from a directory of its own (the buildkitd workers'), and by a
// Sandbox wrapper that forwards it.
type CDIHost interface {
	// CDISpecDir is the directory of buildkitd.toml's [cdi] specDirs.
	CDISpecDir() string
}

// CDISpecDir is the directory in which the buildkitd of sb's backend looks
// for CDI device specs (buildkitd.toml [cdi] specDirs): a test writes a
// spec there, then asks for the device in a RUN step. It is private to the
// backend and empty when the backend starts. It is sb's own when sb
// implements [CDIHost], else its backend's (sandbox.Sandbox.Backend);
// "" when it has none (it is not a buildkitd worker).
func CDISpecDir(sb sandbox.Sandbox) string {
	if c, ok := sb.(CDIHost); ok {
		return c.CDISpecDir()
	}
	if c, ok := sb.Backend().(CDIHost); ok {
		return c.CDISpecDir()
	}
	return ""
}

// CDISpecDir is the backend's CDI spec directory, "" when it has none.
func (b *backend) CDISpecDir() string { return b.cdiSpecDir }

// makeCDISpecDir makes the CDI spec directory under a backend's dir.
func makeCDISpecDir(dir string) (string, error) {
	d := filepath.Join(dir, "cdi")
	return d, os.Mkdir(d, 0o755)
}
