package mirror

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// fileLock is an exclusive, cross-process lock on path. It records its
// holder in path+".owner" so that a waiter that gives up can say who holds it.
type fileLock struct {
	path string
	fl   *flock.Flock
}

type lockOwner struct {
	PID   int       `json:"pid"`
	Since time.Time `json:"since"`
	What  string    `json:"what"`
}

// ErrLockTimeout is returned (wrapped) when the mirror lock was not acquired
// in time.
var ErrLockTimeout = errors.New("lock held too long")

// lockFile takes the exclusive lock on path, waiting at most timeout. what
// says why (recorded for other waiters' error messages).
func lockFile(ctx context.Context, path string, timeout time.Duration, what string) (*fileLock, error) {
	fl := flock.New(path)
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ok, err := fl.TryLockContext(waitCtx, 20*time.Millisecond)
	if !ok || err != nil {
		_ = fl.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("wait for lock %s: %w", path, ctx.Err())
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		return nil, fmt.Errorf("lock %s %s: %w (gave up after %s)", path, describeOwner(path), ErrLockTimeout, timeout)
	}
	l := &fileLock{path: path, fl: fl}
	b, err := json.Marshal(lockOwner{PID: os.Getpid(), Since: time.Now().UTC(), What: what})
	if err == nil {
		err = writeFileAtomic(path+".owner", b)
	}
	if err != nil {
		_ = l.unlock()
		return nil, fmt.Errorf("record lock owner: %w", err)
	}
	return l, nil
}

func describeOwner(path string) string {
	b, err := os.ReadFile(path + ".owner")
	if err != nil {
		return "(holder unknown)"
	}
	var o lockOwner
	if json.Unmarshal(b, &o) != nil || o.PID == 0 {
		return "(holder unknown)"
	}
	return fmt.Sprintf("held by pid %d since %s (%s)", o.PID, o.Since.Format(time.RFC3339), o.What)
}

func (l *fileLock) unlock() error {
	// The owner file goes first: once unlocked, another holder may write it.
	rmErr := os.Remove(l.path + ".owner")
	if errors.Is(rmErr, os.ErrNotExist) {
		rmErr = nil
	}
	err := errors.Join(rmErr, l.fl.Unlock(), l.fl.Close())
	if err != nil {
		return fmt.Errorf("unlock %s: %w", l.path, err)
	}
	return nil
}

// writeFileAtomic writes b to path so that readers see either the old file
// or the whole new one, never a part.
func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	err = errors.Join(err, tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func joinErr(errs ...error) error { return errors.Join(errs...) }
