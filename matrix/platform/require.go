package platform

import "testing"

// RequireNative skips t unless the cell's platform runs natively here; the
// reason names the platform and what is missing.
func RequireNative(t testing.TB, sb Valuer) {
	t.Helper()
	p := From(sb)
	if ok, why := thisMachine().native(p); !ok {
		t.Skipf("%s does not run natively: %s", Format(p), why)
	}
}

// RequireRunnable skips t unless the cell's platform runs here natively or
// under binfmt_misc emulation, and returns how it runs.
func RequireRunnable(t testing.TB, sb Valuer) (how string) {
	t.Helper()
	how, err := Runnable(From(sb))
	if err != nil {
		t.Skip(err.Error())
	}
	return how
}
