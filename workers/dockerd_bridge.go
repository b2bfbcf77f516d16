package workers

import (
	"path/filepath"

	"github.com/matrixbox/matrixbox/internal/bridge"
	"github.com/matrixbox/matrixbox/sandbox"
)

// newBridge makes the Linux bridge a dockerd of cfg takes as its default
// network ("bridge", where BuildKit runs RUN steps), and registers its
// deletion with cl, to run after dockerd has stopped. Each dockerd has its
// own bridge and /24 subnet, so several run at once; the daemon is given
// no iptables rules, no masquerading and no IP forwarding, so containers
// on it reach nothing beyond the bridge and the host's network is left as
// it was. A test process that dies leaves its bridges to its guard or to
// the next run's reaper.
func newBridge(cfg *sandbox.Config, cl *sandbox.Cleanups) (string, error) {
	// The sandbox directory names the bridge's owner, so that the guard
	// removes a warm backend's bridge as quietly as its directory.
	b, err := bridge.New(filepath.Base(filepath.Dir(cfg.Dir)))
	if err != nil {
		return "", err
	}
	cl.Add("delete bridge "+b.Name, func() error { return bridge.Delete(b.Name) })
	cfg.Logs.Printf("dockerd", "matrixbox: bridge %s, %s", b.Name, b.Gateway)
	return b.Name, nil
}
