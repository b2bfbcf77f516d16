//go:build !linux

package platform

import "testing"

// WithoutEmulation skips t: only Linux has binfmt_misc.
func WithoutEmulation(t testing.TB, p Platform) {
	t.Helper()
	t.Skipf("WithoutEmulation(%s): binfmt_misc is Linux's", Format(p))
}

func repairBinfmt() error { return nil }
