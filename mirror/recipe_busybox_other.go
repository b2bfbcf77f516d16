//go:build !linux

package mirror

import (
	"context"
	"fmt"
)

func busyboxToolchain(context.Context, busyboxTarget) (busyboxTools, error) {
	return busyboxTools{}, fmt.Errorf("recipe:busybox compiles busybox on Linux only: %w", ErrMissingTool)
}

func compileBusybox(context.Context, string, busyboxTarget, busyboxTools, string) (busyboxBuild, error) {
	return busyboxBuild{}, fmt.Errorf("recipe:busybox compiles busybox on Linux only: %w", ErrMissingTool)
}
