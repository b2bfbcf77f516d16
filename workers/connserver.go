package workers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
)

// connServer accepts connections on a unix socket and hands each to its
// handler in a goroutine of its own; what the handler returns as an error
// goes to log. Close stops listening, ends every connection the server
// tracks (the accepted ones, and those the handler tracks) and waits for
// the handlers. The dockerd BuildKit proxy (serveBuildkit) and the remote
// workers' forwarding socket (forward) are both one.
type connServer struct {
	ln     net.Listener
	log    io.Writer
	handle func(s *connServer, c net.Conn) error

	// ctx ends at Close, for what a handler dials.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func serveConns(sock string, log io.Writer, handle func(*connServer, net.Conn) error) (*connServer, error) {
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", sock, err)
	}
	s := &connServer{ln: ln, log: log, handle: handle, conns: map[net.Conn]struct{}{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

func (s *connServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return // closed
		}
		if !s.track(c) {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			if err := s.handle(s, c); err != nil {
				fmt.Fprintf(s.log, "matrixbox: %v\n", err)
			}
		}()
	}
}

// track records c so that Close ends it; false (and c closed) once
// closed.
func (s *connServer) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *connServer) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	c.Close()
}

// Close stops listening, ends every connection and waits for the
// handlers.
func (s *connServer) Close() error {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.cancel()
	err := s.ln.Close()
	s.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// pipe copies both ways until both directions end, a reading from fromA
// and b from fromB (readers that may hold bytes already read off the
// connection); the end of one direction is passed on as a half-close where
// the connection has one, so that a client that closes its writing side
// still reads the answer.
func pipe(a net.Conn, fromA io.Reader, b net.Conn, fromB io.Reader) {
	var wg sync.WaitGroup
	wg.Add(2)
	half := func(dst net.Conn, src io.Reader) {
		defer wg.Done()
		_, _ = io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		} else {
			dst.Close()
		}
	}
	go half(b, fromA)
	go half(a, fromB)
	wg.Wait()
}
