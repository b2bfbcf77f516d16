//go:build !linux

package mirror

import (
	"context"
	"fmt"
)

func busyboxToolchain(context.Context, busyboxTarget) (busyboxTools, error) {
	return busyboxTools{}, fmt.Errorf("recipe:busybox compiles busybox on Linux only: %w", ErrMissingTool)
}

func compileBusybox(context.Context, string, busyboxTarget, string, string) error {
	return fmt.Errorf("recipe:busybox compiles busybox on Linux only: %w", ErrMissingTool)
}
