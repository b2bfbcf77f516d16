package supervise

import (
	"os/exec"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// A thread that started a process is no clean one for a namespace: its
// end would kill the process (its parent-death signal follows the
// thread). The main thread is none either.
func TestCleanThread(t *testing.T) {
	result := make(chan [2]bool)
	go func() {
		runtime.LockOSThread() // ended with the goroutine, child and all
		before, err := cleanThread()
		if err != nil {
			t.Error(err)
		}
		cmd := exec.Command("sleep", "60")
		if err := cmd.Start(); err != nil {
			t.Error(err)
		}
		after, _ := cleanThread()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		result <- [2]bool{before || unix.Gettid() == unix.Getpid(), after}
	}()
	r := <-result
	if r[1] {
		t.Error("a thread with a child process counts as clean")
	}
	if !r[0] {
		t.Error("a thread with no child process counts as unclean")
	}
}
