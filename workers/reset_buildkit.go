package workers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// buildkitWiper wipes a buildkitd between cases: build history deleted,
// build cache pruned, then proved empty (no cache record, no history
// record, no build running). A build still running is not cancelled: its
// session belongs to whoever started it, and the backend is discarded.
type buildkitWiper struct {
	address string
	// after, when set, proves what lies beneath empty too: the containerd
	// of buildkitd's containerd worker.
	after func(ctx context.Context) error

	mu   sync.Mutex
	ctrl *buildkitControl
}

func (w *buildkitWiper) control() (*buildkitControl, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ctrl == nil {
		c, err := dialBuildkit(w.address)
		if err != nil {
			return nil, err
		}
		w.ctrl = c
	}
	return w.ctrl, nil
}

// checkVersion fails unless buildkitd's Info reports version.
func (w *buildkitWiper) checkVersion(ctx context.Context, version string) error {
	c, err := w.control()
	if err != nil {
		return err
	}
	got, err := c.version(ctx)
	if err != nil {
		return err
	}
	if got != version {
		return fmt.Errorf("buildkitd reports version %q, not %s, the version of its cell", got, version)
	}
	return nil
}

func (w *buildkitWiper) reset(ctx context.Context) error {
	c, err := w.control()
	if err != nil {
		return err
	}
	active, err := c.histories(ctx, true)
	if err != nil {
		return err
	}
	if len(active) > 0 {
		return fmt.Errorf("buildkitd: builds still running: %s", strings.Join(active, ", "))
	}
	refs, err := c.histories(ctx, false)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		if err := c.deleteHistory(ctx, ref); err != nil {
			return err
		}
	}
	if err := c.prune(ctx); err != nil {
		return err
	}
	var errs []error
	if recs, err := c.diskUsage(ctx); err != nil {
		errs = append(errs, err)
	} else if len(recs) > 0 {
		errs = append(errs, fmt.Errorf("buildkitd: %d build cache records left: %s", len(recs), describeRecords(recs)))
	}
	if refs, err := c.histories(ctx, false); err != nil {
		errs = append(errs, err)
	} else if len(refs) > 0 {
		errs = append(errs, fmt.Errorf("buildkitd: build history records left: %s", strings.Join(refs, ", ")))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if w.after != nil {
		return w.after(ctx)
	}
	return nil
}

func (w *buildkitWiper) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ctrl == nil {
		return nil
	}
	err := w.ctrl.Close()
	w.ctrl = nil
	return err
}
