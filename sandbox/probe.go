package sandbox

import (
	"context"
	"fmt"
	"net"
	"strings"
)

// Probe reports nil once the thing it watches is ready.
type Probe func(ctx context.Context) error

// UnixSocket is ready when a connection to the socket at path is accepted.
func UnixSocket(path string) Probe {
	return dialProbe("unix", path)
}

// tcpProbe is ready when a connection to addr (host:port) is accepted.
func tcpProbe(addr string) Probe {
	return dialProbe("tcp", addr)
}

func dialProbe(network, addr string) Probe {
	return func(ctx context.Context) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
}

// LogLine is ready when the log buffer name contains substr.
func LogLine(logs *Logs, name, substr string) Probe {
	return func(context.Context) error {
		if strings.Contains(logs.Text(name), substr) {
			return nil
		}
		return fmt.Errorf("log %q does not yet contain %q", name, substr)
	}
}
