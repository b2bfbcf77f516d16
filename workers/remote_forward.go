package workers

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"
)

// forward serves a remote daemon on the local unix socket sock, doing the
// TLS of every connection itself (in dial), so that sb.Address() is a plain
// socket that any client (client.New, buildctl, docker) reaches without
// certificates, as it reaches a local daemon. Errors go to log.
func forward(sock string, dial func(context.Context) (net.Conn, error), log io.Writer) (*connServer, error) {
	return serveConns(sock, log, func(s *connServer, c net.Conn) error {
		ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
		up, err := dial(ctx)
		cancel()
		if err != nil {
			return fmt.Errorf("forwarding a connection: %w", err)
		}
		if !s.track(up) {
			return nil
		}
		defer s.untrack(up)
		pipe(c, c, up, up)
		return nil
	})
}
