//go:build !linux

package mirror

import (
	"context"
	"fmt"
)

func busyboxToolchain(context.Context, busyboxTarget, *muslToolchain) (busyboxTools, error) {
	return busyboxTools{}, fmt.Errorf("recipe:busybox compiles busybox on Linux only: %w", ErrMissingTool)
}

func compileBusybox(context.Context, string, busyboxTarget, *muslToolchain, string, string) error {
	return fmt.Errorf("recipe:busybox compiles busybox on Linux only: %w", ErrMissingTool)
}

func (m *Mirror) muslToolchain(context.Context, string, busyboxTarget, string) (*muslToolchain, error) {
	return nil, fmt.Errorf("recipe:busybox compiles busybox on Linux only: %w", ErrMissingTool)
}
