package platform

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gofrs/flock"
)

// BinfmtLockPath is the lock file guarding this machine's binfmt_misc
// state between test processes: [LockBinfmt] holds it shared, and
// [WithoutEmulation], which switches handlers off, holds it exclusively.
const BinfmtLockPath = "/run/lock/matrixbox-binfmt.lock"

// binfmtLockWait bounds the wait for the lock; a holder keeps it for the
// length of one test.
const binfmtLockWait = 10 * time.Minute

// LockBinfmt holds the binfmt_misc lock shared until t ends, so that a test
// that reads or relies on the emulation state ([Emulated], [Runnable], a
// foreign-arch exec) does not see [WithoutEmulation] in another process
// switch a handler off under it. Handlers a crashed [WithoutEmulation] left
// off are switched back on first.
func LockBinfmt(t testing.TB) {
	t.Helper()
	l, err := lockBinfmt(false)
	if errors.Is(err, os.ErrPermission) {
		// Nobody who may not create the lock can switch handlers off.
		t.Logf("without the binfmt_misc lock: %v", err)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Unlock(); err != nil {
			t.Errorf("unlock %s: %v", BinfmtLockPath, err)
		}
	})
}

func lockBinfmt(exclusive bool) (*flock.Flock, error) {
	if err := os.MkdirAll(filepath.Dir(BinfmtLockPath), 0o755); err != nil {
		return nil, fmt.Errorf("binfmt_misc lock: %w", err)
	}
	l := flock.New(BinfmtLockPath)
	ctx, cancel := context.WithTimeout(context.Background(), binfmtLockWait)
	defer cancel()
	try, mode := l.TryRLockContext, "shared"
	if exclusive {
		try, mode = l.TryLockContext, "exclusive"
	}
	ok, err := try(ctx, 100*time.Millisecond)
	if err == nil && !ok {
		err = ctx.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("binfmt_misc lock %s (%s, waited up to %s): %w", BinfmtLockPath, mode, binfmtLockWait, err)
	}
	if err := repairBinfmt(); err != nil {
		l.Unlock()
		return nil, err
	}
	return l, nil
}
