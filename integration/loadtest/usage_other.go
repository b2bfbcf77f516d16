//go:build !linux

package loadtest

import (
	"errors"
	"fmt"
)

// ReadUsage needs /proc; elsewhere it returns an error.
func ReadUsage(pid int) (Usage, error) {
	return Usage{}, fmt.Errorf("usage of %d: %w", pid, errors.ErrUnsupported)
}
