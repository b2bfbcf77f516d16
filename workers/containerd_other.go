//go:build !linux

package workers

import (
	"context"
	"errors"
	"os/exec"
)

type boxContainer struct{}
type imageInfo struct{}

func (b *containerBackend) Command(context.Context, string, []string, ...string) *exec.Cmd {
	return &exec.Cmd{Err: errors.New("containerd worker: runs on Linux only")}
}

func (b *containerBackend) deleteAll() error { return nil }

func (b *containerBackend) prepareAtStart(context.Context) error { return nil }
func (b *containerBackend) forgetImage()                         {}
