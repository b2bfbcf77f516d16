package workers

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/matrixbox/matrixbox/internal/daemons"
	"github.com/matrixbox/matrixbox/internal/supervise"
)

// rootlessUser is the unprivileged user the daemons of a rootless worker
// run as.
type rootlessUser struct {
	name     string
	uid, gid int
}

// rootlessUserName is daemons.RootlessUser; tests of Check name another.
var rootlessUserName = daemons.RootlessUser

// lookupRootlessUser finds the user the daemons run as, and says how to
// make it when it is not there.
func lookupRootlessUser() (rootlessUser, error) {
	u, err := user.Lookup(rootlessUserName)
	if err != nil {
		return rootlessUser{}, fmt.Errorf("the user %s, whom the rootless workers run their daemons as, does not exist (%v): run %s as root, which makes it",
			rootlessUserName, err, daemons.InstallCommand)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err := errors.Join(err1, err2); err != nil {
		return rootlessUser{}, fmt.Errorf("user %s: %w", rootlessUserName, err)
	}
	if uid == 0 {
		return rootlessUser{}, fmt.Errorf("the user %s of the rootless workers has uid 0: it must be unprivileged; remove it (userdel %s) and run %s",
			rootlessUserName, rootlessUserName, daemons.InstallCommand)
	}
	return rootlessUser{name: u.Username, uid: uid, gid: gid}, nil
}

// subIDFiles are the files newuidmap and newgidmap read.
var subIDFiles = []string{"/etc/subuid", "/etc/subgid"}

// checkRootless says everything this machine lacks for the rootless
// workers, each with the command that sets it up: root, the user and its
// subordinate ids, RootlessKit, newuidmap and newgidmap, the kernel's
// unprivileged user namespaces, a temporary directory the user can
// reach; then, once per process, whether RootlessKit really starts as the
// user.
func checkRootless() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root (the test process starts the rootless daemons as the user %s, in the sandbox's cgroup): run the tests as root", rootlessUserName)
	}
	var errs []error
	errs = append(errs, lookBinaries("rootlesskit", "newuidmap", "newgidmap", "nsenter"))
	u, err := lookupRootlessUser()
	errs = append(errs, err)
	if err == nil {
		for _, f := range subIDFiles {
			n, err := daemons.SubIDs(f, u.name, strconv.Itoa(u.uid))
			switch {
			case err != nil:
				errs = append(errs, err)
			case n < daemons.SubIDCount:
				errs = append(errs, fmt.Errorf("%s gives the user %s %d subordinate ids, not the %d the rootless workers need: run %s as root",
					f, u.name, n, daemons.SubIDCount, daemons.InstallCommand))
			}
		}
		errs = append(errs, u.reaches(supervise.ShortTempRoot()))
	}
	errs = append(errs, checkUserNamespaces())
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return probeRootless(u)
}

// reaches says why u cannot reach dir (a directory on the way it may not
// search), nil when it can.
func (u rootlessUser) reaches(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if !u.maySearch(fi) {
			return fmt.Errorf("the user %s of the rootless workers cannot reach %s, where sandboxes are made: %s has mode %s; set TMPDIR to a directory every user may reach, such as /tmp",
				u.name, dir, d, fi.Mode().Perm())
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// probeOnce runs the live probe once per process.
var probeOnce struct {
	once sync.Once
	err  error
}

func probeRootless(u rootlessUser) error {
	probeOnce.once.Do(func() { probeOnce.err = u.probe() })
	return probeOnce.err
}
