package loadtest_test

import (
	"fmt"
	"os"
	"time"

	"github.com/matrixbox/matrixbox/integration/loadtest"
)

// Watch a process (here the test binary itself) and read its peaks.
func ExampleWatch() {
	stop := loadtest.Watch(os.Getpid(), 10*time.Millisecond)
	buf := make([]byte, 8<<20)
	for i := range buf {
		buf[i] = 1
	}
	peak := stop()
	fmt.Println(peak.FDs > 0, peak.HWM >= int64(len(buf)))
	// Output: true true
}

func ExampleReadUsage() {
	u, err := loadtest.ReadUsage(os.Getpid())
	fmt.Println(err, u.FDs >= 3)
	// Output: <nil> true
}
