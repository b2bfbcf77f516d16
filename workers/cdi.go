package workers

import (
	"os"
	"path/filepath"

	"github.com/matrixbox/matrixbox/sandbox"
)

// CDISpecDir is the directory in which the buildkitd of sb's backend looks
// for CDI device specs (buildkitd.toml [cdi] specDirs): a test writes a
// spec there, then asks for the device in a RUN step. It is private to the
// backend and empty when the backend starts. "" when the backend has none
// (it is not a buildkitd worker).
func CDISpecDir(sb sandbox.Sandbox) string {
	type backender interface{ Backend() sandbox.Backend }
	bb, ok := sb.(backender)
	if !ok {
		return ""
	}
	if b, ok := bb.Backend().(interface{ CDISpecDir() string }); ok {
		return b.CDISpecDir()
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
