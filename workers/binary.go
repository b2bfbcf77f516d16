package workers

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/matrixbox/matrixbox/internal/daemons"
	"github.com/matrixbox/matrixbox/sandbox"
)

// installHint says how to get each program a worker runs from the
// distribution.
var installHint = map[string]string{
	"nsenter":     "apt-get install util-linux",
	"rootlesskit": daemons.InstallCommand + " (apt-get install rootlesskit)",
	"newuidmap":   daemons.InstallCommand + " (apt-get install uidmap)",
	"newgidmap":   daemons.InstallCommand + " (apt-get install uidmap)",
}

// lookBinary finds name: an absolute or relative path is taken as given;
// a bare name is the program of that name of a default release, when
// installed (buildctl, containerd), else searched in PATH. The error says what to install; for a path, which was configured
// explicitly (WithBinary), it wraps sandbox.ErrMisconfigured, so that the
// worker's cells fail instead of skipping.
func lookBinary(name string) (string, error) {
	if strings.ContainsRune(name, '/') {
		if err := executable(name); err != nil {
			return "", fmt.Errorf("%w: %s: %w", sandbox.ErrMisconfigured, name, err)
		}
		return name, nil
	}
	for _, c := range daemons.Components() {
		r := daemons.Default(c)
		if p := r.Path(name); p != "" && r.Installed() == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	hint := installHint[name]
	if hint == "" {
		hint = "install it"
	}
	return "", fmt.Errorf("%s not found in PATH: %s", name, hint)
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
