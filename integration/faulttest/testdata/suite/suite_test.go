// Package suite is the fixture the fault tests run as a child go test: a
// real supervised daemon per case and a test whose behaviour the parent
// picks with FAULT=<name>. It lives under testdata so go test ./... does not
// run it on its own.
package suite

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/matrix"
	"github.com/matrixbox/matrixbox/sandbox"
)

func TestSuite(t *testing.T) {
	integration.Run(t, integration.TestFuncs(testFault, testQuiet),
		integration.WithWorkers(sleepd{}),
		integration.WithAxes(matrix.Strings("n", "1", "2")))
}

// sleepd is a worker whose daemon is a real process: `sleep`, started
// through the supervisor like every daemon. Its pid goes to $FAULT_DIR/pids.
type sleepd struct{}

func (sleepd) Name() string { return "sleepd" }
func (sleepd) New(_ context.Context, cfg *sandbox.Config) (sandbox.Backend, func() error, error) {
	p, err := sandbox.Start("sleepd", exec.Command("sleep", "900"), cfg.Logs)
	if err != nil {
		return nil, nil, err
	}
	note("pids", fmt.Sprint(p.Pid()))
	note("dirs", cfg.Dir)
	note("owner", fmt.Sprint(os.Getpid()))
	return backend{}, func() error { return p.Stop(5 * time.Second) }, nil
}

type backend struct{}

func (backend) Address() string { return "" }

func note(file, line string) {
	dir := os.Getenv("FAULT_DIR")
	if dir == "" {
		return
	}
	f, err := os.OpenFile(filepath.Join(dir, file), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err == nil {
		fmt.Fprintln(f, line)
		f.Close()
	}
}

func testQuiet(t *testing.T, sb sandbox.Sandbox) {}

func testFault(t *testing.T, sb sandbox.Sandbox) {
	// Leave a child of the test behind too, as a careless test would.
	_ = sb.Cmd("sleep", "901").Start()
	note("ready", sb.Name())
	switch os.Getenv("FAULT") {
	case "hang":
		time.Sleep(time.Hour)
	case "panic":
		panic("FAULT-PANIC")
	case "exit":
		os.Exit(3)
	case "goroutine-panic":
		done := make(chan struct{})
		go func() { defer close(done); panic("FAULT-GOROUTINE-PANIC") }()
		<-done
	}
}
