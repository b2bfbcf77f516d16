package workers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/matrixbox/matrixbox/internal/supervise"
)

// credential makes cmd run as u, with no supplementary groups. The
// parent-death signal the sandbox sets survives it: Go sets it after the
// change of user.
func (u rootlessUser) credential(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(u.uid), Gid: uint32(u.gid), Groups: []uint32{}}
}

// maySearch reports whether u may search the directory fi.
func (u rootlessUser) maySearch(fi os.FileInfo) bool {
	perm := fi.Mode().Perm()
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !ok:
		return perm&0o001 != 0
	case int(st.Uid) == u.uid:
		return perm&0o100 != 0
	case int(st.Gid) == u.gid:
		return perm&0o010 != 0
	}
	return perm&0o001 != 0
}

// The kernel's switches for unprivileged user namespaces; tests of Check
// point them elsewhere.
var (
	maxUserNamespaces   = "/proc/sys/user/max_user_namespaces"
	unprivilegedClone   = "/proc/sys/kernel/unprivileged_userns_clone"             // Debian's kernels
	apparmorRestriction = "/proc/sys/kernel/apparmor_restrict_unprivileged_userns" // Ubuntu 23.10 and later
)

// checkUserNamespaces says which switch of the kernel keeps an
// unprivileged user from making a user namespace, with the command that
// turns it on.
func checkUserNamespaces() error {
	read := func(p string) (int, bool) {
		b, err := os.ReadFile(p)
		if err != nil {
			return 0, false
		}
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		return n, err == nil
	}
	var errs []error
	if n, ok := read(maxUserNamespaces); ok && n == 0 {
		errs = append(errs, errors.New("the kernel allows no user namespaces (user.max_user_namespaces=0), which RootlessKit makes: sysctl -w user.max_user_namespaces=28633"))
	}
	if n, ok := read(unprivilegedClone); ok && n == 0 {
		errs = append(errs, errors.New("the kernel allows no unprivileged user namespaces (kernel.unprivileged_userns_clone=0), which RootlessKit makes: sysctl -w kernel.unprivileged_userns_clone=1"))
	}
	return errors.Join(errs...)
}

// probe starts RootlessKit as u with `true` for a command, in a state
// directory it removes: what the static checks cannot see (newuidmap
// refusing the ranges, an AppArmor policy against user namespaces) fails
// here, with RootlessKit's own words.
func (u rootlessUser) probe() error {
	dir, err := os.MkdirTemp(supervise.ShortTempRoot(), "matrixbox-rootless-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o711); err != nil {
		return err
	}
	state := dir + "/state"
	if err := os.Mkdir(state, 0o700); err != nil {
		return err
	}
	if err := os.Chown(state, u.uid, u.gid); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, rootlesskitPath(), "--state-dir="+state, "--net=host", "--port-driver=none", "--", "true")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_RUNTIME_DIR="+dir)
	u.credential(cmd)
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		hint := "check that newuidmap and newgidmap are setuid root (apt-get install --reinstall uidmap) and that the ranges of /etc/subuid and /etc/subgid are free"
		if b, _ := os.ReadFile(apparmorRestriction); strings.TrimSpace(string(b)) == "1" {
			hint = "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1): give rootlesskit a profile that allows them, or sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"
		}
		return fmt.Errorf("RootlessKit does not start as the user %s (%v: %s): %s", u.name, err, strings.TrimSpace(out.String()), hint)
	}
	return nil
}
