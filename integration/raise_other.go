//go:build !linux

package integration

import (
	"os"
	"os/signal"
)

// raiseDefault ends the process with sig as the signal's default action
// does.
func raiseDefault(sig os.Signal) error {
	signal.Reset(sig)
	p, err := os.FindProcess(os.Getpid())
	if err != nil {
		return err
	}
	return p.Signal(sig)
}
