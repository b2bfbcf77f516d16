package workers

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
)

// h2Preface opens every HTTP/2 connection; a gRPC client (BuildKit's)
// sends it first thing.
const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// buildkitProxy serves BuildKit's API for a dockerd on a unix socket of its
// own, so that client.New(ctx, sb.Address()) works as on buildkitd. dockerd
// serves BuildKit on its Docker API: a POST to /grpc (the control API) or
// /session, upgraded to h2c, after which the connection speaks HTTP/2. The
// proxy tells a connection's kind by its first bytes: an HTTP/2 one is
// upgraded on /grpc for the client, anything else (an HTTP/1 request such
// as the /session upgrade, or any Docker API call) passes through to
// dockerd unchanged.
type buildkitProxy struct {
	ln     net.Listener
	docker string // dockerd's API socket
	log    io.Writer

	wg     sync.WaitGroup
	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{}
}

// serveBuildkit listens on the unix socket sock and forwards to dockerd's
// API socket docker; its errors go to log.
func serveBuildkit(sock, docker string, log io.Writer) (*buildkitProxy, error) {
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return nil, fmt.Errorf("listen for BuildKit clients of dockerd: %w", err)
	}
	p := &buildkitProxy{ln: ln, docker: docker, log: log, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

func (p *buildkitProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		if !p.track(c) {
			c.Close()
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer p.untrack(c)
			if err := p.forward(c); err != nil {
				fmt.Fprintf(p.log, "BuildKit proxy: %v\n", err)
			}
		}()
	}
}

// track records c so that Close can end it; false once closed.
func (p *buildkitProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *buildkitProxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
	c.Close()
}

// forward carries one client connection to dockerd.
func (p *buildkitProxy) forward(client net.Conn) error {
	br := bufio.NewReaderSize(client, 4096)
	h2, err := isHTTP2(br)
	if err != nil {
		return nil // the client went away before saying anything
	}
	upstream, err := net.Dial("unix", p.docker)
	if err != nil {
		return fmt.Errorf("dial dockerd: %w", err)
	}
	if !p.track(upstream) {
		upstream.Close()
		return nil
	}
	defer p.untrack(upstream)
	var fromUpstream io.Reader = upstream
	if h2 {
		if fromUpstream, err = upgradeGRPC(upstream); err != nil {
			return err
		}
	}
	pipe(client, br, upstream, fromUpstream)
	return nil
}

// isHTTP2 reports whether the connection starts with the HTTP/2 preface,
// reading no more than it takes to tell.
func isHTTP2(br *bufio.Reader) (bool, error) {
	for n := 1; n <= len(h2Preface); n++ {
		b, err := br.Peek(n)
		if err != nil {
			return false, err
		}
		if !bytes.HasPrefix([]byte(h2Preface), b) {
			return false, nil
		}
	}
	return true, nil
}

// upgradeGRPC asks dockerd to turn conn into an HTTP/2 connection to its
// BuildKit control API, as the Docker CLI does, and returns the reader of
// what dockerd sends from then on (it may already have sent HTTP/2
// frames behind its answer).
func upgradeGRPC(conn net.Conn) (io.Reader, error) {
	req, err := http.NewRequest(http.MethodPost, "http://docker/grpc", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "h2c")
	if err := req.Write(conn); err != nil {
		return nil, fmt.Errorf("dockerd /grpc upgrade: %w", err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, fmt.Errorf("dockerd /grpc upgrade: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return nil, fmt.Errorf("dockerd /grpc upgrade: %s (dockerd has no BuildKit? daemon.json features.buildkit)", resp.Status)
	}
	return br, nil
}

// pipe copies both ways until both directions end; a direction that ends
// half-closes its destination so that the other side sees EOF.
func pipe(a net.Conn, fromA io.Reader, b net.Conn, fromB io.Reader) {
	var wg sync.WaitGroup
	wg.Add(2)
	half := func(dst net.Conn, src io.Reader) {
		defer wg.Done()
		_, _ = io.Copy(dst, src)
		if uc, ok := dst.(*net.UnixConn); ok {
			_ = uc.CloseWrite()
		} else {
			dst.Close()
		}
	}
	go half(b, fromA)
	go half(a, fromB)
	wg.Wait()
}

// Close stops accepting, ends every connection and waits for the
// forwarding goroutines.
func (p *buildkitProxy) Close() error {
	p.mu.Lock()
	p.closed = true
	err := p.ln.Close()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}
