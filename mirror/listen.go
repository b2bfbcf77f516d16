package mirror

import (
	"context"
	"net"
	"strconv"
)

// listenShared listens on addr. A fixed port is shared with the other
// processes that listen on it the same way (SO_REUSEPORT where the system
// has it), so that every test process of a go test serves the one address
// a remote daemon is configured with.
func listenShared(ctx context.Context, addr string) (net.Listener, error) {
	lc := net.ListenConfig{}
	if _, port, err := net.SplitHostPort(addr); err == nil && port != "0" {
		lc.Control = reusePort
	}
	return lc.Listen(ctx, "tcp", addr)
}

// dialable is the address local clients dial for a listener's address:
// the listener's own, or 127.0.0.1 with its port when it listens on every
// address.
func dialable(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok || !ta.IP.IsUnspecified() {
		return a.String()
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(ta.Port))
}
