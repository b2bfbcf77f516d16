package workers

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
)

// h2Preface opens every HTTP/2 connection; a gRPC client (BuildKit's)
// sends it first thing.
const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// serveBuildkit serves BuildKit's API for a dockerd on the unix socket
// sock of its own, so that client.New(ctx, sb.Address()) works as on
// buildkitd; errors go to log. dockerd serves BuildKit on its Docker API
// (the socket docker): a POST to /grpc (the control API) or /session,
// upgraded to h2c, after which the connection speaks HTTP/2. The proxy
// tells a connection's kind by its first bytes: an HTTP/2 one is upgraded
// on /grpc for the client, anything else (an HTTP/1 request such as the
// /session upgrade, or any Docker API call) passes through to dockerd
// unchanged.
func serveBuildkit(sock, docker string, log io.Writer) (*connServer, error) {
	s, err := serveConns(sock, log, func(s *connServer, client net.Conn) error {
		return forwardToDockerd(s, client, docker)
	})
	if err != nil {
		return nil, fmt.Errorf("listen for BuildKit clients of dockerd: %w", err)
	}
	return s, nil
}

// forwardToDockerd carries one client connection to dockerd.
func forwardToDockerd(s *connServer, client net.Conn, docker string) error {
	br := bufio.NewReaderSize(client, 4096)
	h2, err := isHTTP2(br)
	if err != nil {
		return nil // the client went away before saying anything
	}
	upstream, err := net.Dial("unix", docker)
	if err != nil {
		return fmt.Errorf("BuildKit proxy: dial dockerd: %w", err)
	}
	if !s.track(upstream) {
		return nil
	}
	defer s.untrack(upstream)
	var fromUpstream io.Reader = upstream
	if h2 {
		if fromUpstream, err = upgradeGRPC(upstream); err != nil {
			return fmt.Errorf("BuildKit proxy: %w", err)
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
