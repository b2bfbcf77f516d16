package sandbox

import (
	"errors"
	"fmt"
	"sync"
)

// Cleanups is a stack of named functions that undo, in reverse order,
// what was set up: the harness's per-case sandbox keeps one and a [Worker]'s
// New one for the backend it starts, whose Run is the backend's stop. The
// zero value is ready to use; it is safe for concurrent use.
type Cleanups struct {
	mu  sync.Mutex
	fns []namedCleanup
}

type namedCleanup struct {
	name string
	fn   func() error
}

// Add pushes fn, to run at [Cleanups.Run] before those added earlier. name
// says what fn undoes ("stop buildkitd"); it prefixes fn's error.
func (c *Cleanups) Add(name string, fn func() error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fns = append(c.fns, namedCleanup{name, fn})
}

// Run calls every function added, the last added first, and empties the
// stack. It returns every error, each as "name: error", joined with
// errors.Join; nil when all succeeded.
func (c *Cleanups) Run() error {
	c.mu.Lock()
	fns := c.fns
	c.fns = nil
	c.mu.Unlock()
	var errs []error
	for i := len(fns) - 1; i >= 0; i-- {
		if err := fns[i].fn(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", fns[i].name, err))
		}
	}
	return errors.Join(errs...)
}
