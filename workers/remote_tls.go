package workers

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// TLS is how a remote worker secures its TCP connection to a daemon: the
// files buildctl takes as --tlscacert, --tlscert, --tlskey and
// --tlsservername, and docker as --tlscacert, --tlscert and --tlskey.
type TLS struct {
	// CA is the PEM file of the authority the daemon's certificate must
	// chain to; "" means the system's roots.
	CA string
	// Cert and Key are the PEM files of the client's certificate and key,
	// for a daemon that asks for one: both or neither.
	Cert, Key string
	// ServerName is the name the daemon's certificate must carry; ""
	// means the host of the address.
	ServerName string
	// Insecure skips verifying the daemon's certificate, as docker --tls
	// without --tlsverify does. The connection is encrypted, but anyone
	// between the two can read it.
	Insecure bool
}

// WithTLS connects a [RemoteBuildkit] or [RemoteDockerd] worker to its
// daemon over TLS.
func WithTLS(t TLS) Option {
	return option("WithTLS", func(o *options) { tt := t; o.remote.tls = &tt })
}

// WithTLSDir connects a [RemoteBuildkit] or [RemoteDockerd] worker to its
// daemon over TLS with the files of dir: ca.pem, cert.pem and key.pem (the
// layout of DOCKER_CERT_PATH and buildctl --tlsdir) or ca.crt, tls.crt and tls.key (a Kubernetes TLS
// secret, which buildctl --tlsdir also reads). The CA is required; the
// client certificate and key are used when both are there.
func WithTLSDir(dir string) Option {
	return option("WithTLSDir", func(o *options) { o.remote.tlsDir = dir })
}

// tlsFromDir finds the files of a TLS directory, as buildctl --tlsdir does.
func tlsFromDir(dir string) (TLS, error) {
	pick := func(names ...string) string {
		for _, n := range names {
			if p := filepath.Join(dir, n); fileExists(p) {
				return p
			}
		}
		return ""
	}
	t := TLS{CA: pick("ca.pem", "ca.crt"), Cert: pick("cert.pem", "tls.crt"), Key: pick("key.pem", "tls.key")}
	if t.CA == "" {
		return t, fmt.Errorf("TLS directory %s: no ca.pem or ca.crt", dir)
	}
	if (t.Cert == "") != (t.Key == "") {
		return t, fmt.Errorf("TLS directory %s: a client certificate without its key, or a key without its certificate", dir)
	}
	return t, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// config loads the files into a client TLS configuration for a daemon at
// host. Each error names the file.
func (t TLS) config(host string) (*tls.Config, error) {
	c := &tls.Config{ServerName: t.ServerName, MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.Insecure}
	if c.ServerName == "" {
		c.ServerName = host
	}
	if t.CA != "" {
		pem, err := os.ReadFile(t.CA)
		if err != nil {
			return nil, fmt.Errorf("TLS CA: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TLS CA %s: no PEM certificate in it", t.CA)
		}
	}
	switch {
	case t.Cert != "" && t.Key != "":
		pair, err := tls.LoadX509KeyPair(t.Cert, t.Key)
		if err != nil {
			return nil, fmt.Errorf("TLS client certificate %s and key %s: %w", t.Cert, t.Key, err)
		}
		c.Certificates = []tls.Certificate{pair}
	case t.Cert != "" || t.Key != "":
		return nil, fmt.Errorf("TLS: give the client certificate and its key together (cert %q, key %q)", t.Cert, t.Key)
	}
	return c, nil
}

// endpoint is a daemon's address, parsed.
type endpoint struct {
	network string // "unix" or "tcp"
	addr    string // a socket path, or host:port
}

// parseEndpoint parses a unix:// or tcp:// address; a bare absolute path
// is a unix socket when bare is true (containerd's own notation).
func parseEndpoint(raw string, bare bool) (endpoint, error) {
	if bare && strings.HasPrefix(raw, "/") {
		return endpoint{"unix", raw}, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return endpoint{}, fmt.Errorf("address %q: %w", raw, err)
	}
	switch u.Scheme {
	case "unix":
		p := u.Path
		if u.Host != "" {
			p = u.Host + p // unix://relative/path
		}
		if p == "" {
			return endpoint{}, fmt.Errorf("address %q: no socket path", raw)
		}
		return endpoint{"unix", p}, nil
	case "tcp":
		if u.Path != "" && u.Path != "/" {
			return endpoint{}, fmt.Errorf("address %q: a tcp address has no path", raw)
		}
		if _, port, err := net.SplitHostPort(u.Host); err != nil || port == "" {
			return endpoint{}, fmt.Errorf("address %q: want tcp://host:port", raw)
		}
		return endpoint{"tcp", u.Host}, nil
	case "":
		return endpoint{}, fmt.Errorf("address %q: want unix:///path or tcp://host:port", raw)
	}
	return endpoint{}, fmt.Errorf("address %q: scheme %s is not supported (want unix:// or tcp://)", raw, u.Scheme)
}

func (e endpoint) host() string {
	h, _, err := net.SplitHostPort(e.addr)
	if err != nil {
		return e.addr
	}
	return h
}

// dialer connects to a daemon, over TLS when tc is set.
type dialer struct {
	ep endpoint
	tc *tls.Config
}

func (d dialer) dial(ctx context.Context) (net.Conn, error) {
	var nd net.Dialer
	c, err := nd.DialContext(ctx, d.ep.network, d.ep.addr)
	if err != nil {
		return nil, err
	}
	if d.tc == nil {
		return c, nil
	}
	tc := tls.Client(c, d.tc)
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("TLS handshake with %s: %w", d.ep.addr, err)
	}
	return tc, nil
}

// errNoTLSOverUnix is returned for TLS options on a unix socket, which
// daemons do not serve TLS on.
var errNoTLSOverUnix = errors.New("TLS options are for tcp:// addresses; a unix socket is reached without TLS")
