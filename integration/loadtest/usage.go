package loadtest

import (
	"sync"
	"time"
)

// Usage is what the load test watches of a process.
type Usage struct {
	FDs int   // open file descriptors
	HWM int64 // peak resident set size in bytes (VmHWM)
}

// max keeps the larger of each field.
func (u Usage) max(v Usage) Usage {
	return Usage{FDs: max(u.FDs, v.FDs), HWM: max(u.HWM, v.HWM)}
}

// Watch samples pid every interval and once more when stop is called, and
// stop returns the peaks seen. VmHWM is itself a peak, so the last sample before exit
// holds it; the descriptor count is only as fine as the interval. Samples
// that fail (the process has exited) are ignored.
func Watch(pid int, interval time.Duration) (stop func() Usage) {
	var (
		mu   sync.Mutex
		peak Usage
	)
	sample := func() {
		if u, err := ReadUsage(pid); err == nil {
			mu.Lock()
			peak = peak.max(u)
			mu.Unlock()
		}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			sample()
			select {
			case <-done:
				sample() // the state at stop, however recent the last tick
				return
			case <-tick.C:
			}
		}
	}()
	var once sync.Once
	return func() Usage {
		once.Do(func() { close(done) })
		<-finished
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}
