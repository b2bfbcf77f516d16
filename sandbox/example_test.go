package sandbox_test

import (
	"context"
	"fmt"
	"os/exec"
	"time"

	"github.com/matrixbox/matrixbox/sandbox"
)

// A worker starts its daemon with Start, waits with WaitReady and stops it
// with Stop; the output lands in the sandbox logs.
func ExampleStart() {
	logs := sandbox.NewLogs()
	p, err := sandbox.Start("greeter", exec.Command("sh", "-c", "echo hello; exec sleep 60"), logs)
	if err != nil {
		fmt.Println(err)
		return
	}
	err = p.WaitReady(context.Background(), 10*time.Second, sandbox.LogLine(logs, "greeter", "hello"))
	fmt.Println("ready:", err == nil)
	fmt.Println("stop:", p.Stop(time.Second))
	// Output:
	// ready: true
	// stop: <nil>
}
