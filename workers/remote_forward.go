package workers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// forwarder serves a remote daemon on a local unix socket, doing the TLS
// of every connection itself, so that sb.Address() is a plain socket that
// any client (client.New, buildctl, docker) reaches without certificates,
// as it reaches a local daemon.
type forwarder struct {
	ln   net.Listener
	dial func(context.Context) (net.Conn, error)
	log  io.Writer

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// forward listens on the unix socket sock; each connection is carried to
// a connection made by dial. Errors go to log.
func forward(sock string, dial func(context.Context) (net.Conn, error), log io.Writer) (*forwarder, error) {
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", sock, err)
	}
	f := &forwarder{ln: ln, dial: dial, log: log, conns: map[net.Conn]struct{}{}}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	f.wg.Add(1)
	go f.serve()
	return f, nil
}

func (f *forwarder) serve() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return // closed
		}
		if !f.track(c) {
			return
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer f.untrack(c)
			ctx, cancel := context.WithTimeout(f.ctx, 30*time.Second)
			up, err := f.dial(ctx)
			cancel()
			if err != nil {
				fmt.Fprintf(f.log, "matrixbox: forwarding a connection: %v\n", err)
				return
			}
			if !f.track(up) {
				return
			}
			defer f.untrack(up)
			splice(c, up)
		}()
	}
}

// track records c so that Close ends it; false (and c closed) once
// closed.
func (f *forwarder) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		c.Close()
		return false
	}
	f.conns[c] = struct{}{}
	return true
}

func (f *forwarder) untrack(c net.Conn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
	c.Close()
}

// Close stops listening, ends every connection and waits for their
// goroutines.
func (f *forwarder) Close() error {
	f.mu.Lock()
	f.closed = true
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.cancel()
	err := f.ln.Close()
	f.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// splice copies both ways until both directions end; the end of one
// direction is passed on as a half-close where the connection has one, so
// that a client that closes its writing side still reads the answer.
func splice(a, b net.Conn) {
	var wg sync.WaitGroup
	wg.Add(2)
	half := func(dst, src net.Conn) {
		defer wg.Done()
		_, _ = io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		} else {
			dst.Close()
		}
	}
	go half(b, a)
	go half(a, b)
	wg.Wait()
}
