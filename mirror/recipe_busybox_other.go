//go:build !linux

package mirror

import (
	"context"
	"fmt"
)

func compileBusybox(context.Context, string, string, string) (busyboxBuild, error) {
	return busyboxBuild{}, fmt.Errorf("recipe:busybox compiles busybox on Linux only: %w", ErrMissingTool)
}
