package integration

import (
	"context"
	"runtime"
	"sync"

	"golang.org/x/sync/semaphore"
)

var (
	limitOnce sync.Once
	limit     *semaphore.Weighted
	limitSize int
)

// processLimit is the process-wide bound on live sandboxes, sized by the
// first Run from MATRIXBOX_PARALLEL or GOMAXPROCS.
func processLimit(parallel int) (*semaphore.Weighted, int) {
	limitOnce.Do(func() {
		limitSize = parallel
		if limitSize < 1 {
			limitSize = runtime.GOMAXPROCS(0)
		}
		limit = semaphore.NewWeighted(int64(limitSize))
	})
	return limit, limitSize
}

// slots acquires one slot of each semaphore in order and returns the release.
func slots(ctx context.Context, sems ...*semaphore.Weighted) (func(), error) {
	var held []*semaphore.Weighted
	release := func() {
		for i := len(held) - 1; i >= 0; i-- {
			held[i].Release(1)
		}
	}
	for _, s := range sems {
		if s == nil {
			continue
		}
		if err := s.Acquire(ctx, 1); err != nil {
			release()
			return nil, err
		}
		held = append(held, s)
	}
	return release, nil
}
