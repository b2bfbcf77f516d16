package workers

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/matrixbox/matrixbox/sandbox"
)

// EnvBin names the directory searched for daemon binaries before PATH.
// scripts/install-tools.sh installs there; its default is DefaultBinDir.
const EnvBin = "MATRIXBOX_BIN"

// DefaultBinDir is where scripts/install-tools.sh puts buildkitd, buildctl,
// containerd 2 and its shim when MATRIXBOX_BIN is unset: a directory of
// their own, so that containerd 2 does not shadow Debian's containerd 1.6 on
// PATH (dockerd starts whichever containerd PATH finds first).
const DefaultBinDir = "/usr/local/lib/matrixbox/bin"

// installHint says how to get each binary a worker needs.
var installHint = map[string]string{
	"buildkitd":               "run scripts/install-tools.sh (builds github.com/moby/buildkit v0.28.0 into $MATRIXBOX_BIN)",
	"buildctl":                "run scripts/install-tools.sh (builds github.com/moby/buildkit v0.28.0 into $MATRIXBOX_BIN)",
	"containerd":              "run scripts/install-tools.sh (builds github.com/containerd/containerd/v2 v2.2.1 into $MATRIXBOX_BIN) or apt-get install containerd",
	"containerd-shim-runc-v2": "run scripts/install-tools.sh (builds github.com/containerd/containerd/v2 v2.2.1 into $MATRIXBOX_BIN) or apt-get install containerd",
	"runc":                    "apt-get install runc",
	"dockerd":                 "apt-get install docker.io",
	"nsenter":                 "apt-get install util-linux",
}

// binDir is the directory searched before PATH.
func binDir() string {
	if d := os.Getenv(EnvBin); d != "" {
		return d
	}
	return DefaultBinDir
}

// lookBinary finds name: an absolute or relative path is taken as given,
// a bare name is searched in $MATRIXBOX_BIN (default DefaultBinDir), then
// PATH. The error says what to install; for a path, which was configured
// explicitly (WithBinary), it wraps sandbox.ErrMisconfigured, so that the
// worker's cells fail instead of skipping.
func lookBinary(name string) (string, error) {
	if strings.ContainsRune(name, '/') {
		if err := executable(name); err != nil {
			return "", fmt.Errorf("%w: %s: %w", sandbox.ErrMisconfigured, name, err)
		}
		return name, nil
	}
	p := filepath.Join(binDir(), name)
	if executable(p) == nil {
		return p, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	hint := installHint[name]
	if hint == "" {
		hint = "install it"
	}
	return "", fmt.Errorf("%s not found in %s=%s or PATH: %s", name, EnvBin, binDir(), hint)
}

func executable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return errors.New("not an executable file")
	}
	return nil
}

// lookBinaries checks every name and joins the errors, so a skip line names
// everything that is missing at once.
func lookBinaries(names ...string) error {
	var errs []error
	for _, n := range names {
		if _, err := lookBinary(n); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// requireRoot is part of every daemon worker's Check: they mount and make
// namespaces.
func requireRoot() error {
	if os.Geteuid() != 0 {
		return errors.New("needs root (the daemon mounts filesystems and makes namespaces): run the tests as root")
	}
	return nil
}
