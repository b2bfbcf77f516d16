//go:build !linux

package mirror

import (
	"context"
	"fmt"
	"os"

	"github.com/matrixbox/matrixbox/ociimage"
)

func unmountUnder(string) error { return nil }

func removeBuildDir(dir string) { os.RemoveAll(dir) }

func buildDebian(context.Context, recipeSource, string, string) (*ociimage.Image, error) {
	return nil, fmt.Errorf("recipe needs debootstrap, which runs on Linux only: %w", ErrMissingTool)
}
