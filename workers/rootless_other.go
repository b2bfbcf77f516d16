//go:build !linux

package workers

import (
	"errors"
	"os"
	"os/exec"
)

var errRootlessLinuxOnly = errors.New("the rootless workers run on Linux only")

func (u rootlessUser) credential(cmd *exec.Cmd) { cmd.Err = errRootlessLinuxOnly }

func (u rootlessUser) maySearch(os.FileInfo) bool { return false }

func checkUserNamespaces() error { return errRootlessLinuxOnly }

func (u rootlessUser) probe() error { return errRootlessLinuxOnly }
