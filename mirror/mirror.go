package mirror

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// EnvDir names the environment variable that overrides the shared mirror
// directory.
const EnvDir = "MATRIXBOX_MIRROR_DIR"

// Mirror is a registry mirror over a directory that any number of processes
// share. Its zero value is not usable; get one from New or Shared.
type Mirror struct {
	dir    string // "" for Shared until Start picks it
	listen string // host:port the server listens on
	// listenFrom and dirFrom name what set listen and dir, for errors:
	// the environment variable, the option; "" for the default.
	listenFrom, dirFrom string
	lockTimeout         time.Duration
	log                 io.Writer

	mu     sync.Mutex
	srv    *server
	hosts  map[string]bool
	stats  Stats
	closed bool
	blobs  *blobStore // nil until the directory is known
	// access is what the server serves: what this process declared.
	access *access
	// writer writes images into the storage, in this process.
	writer *storeWriter
	cfgErr error
	// buildCache overrides where recipes keep compiled programs (tests
	// that must compile from nothing set it).
	buildCache string
	// staleOnce sweeps what killed builds left (see sweepStale).
	staleOnce sync.Once
}

// Stats counts what a Mirror did in this process.
type Stats struct {
	Hits   int   // images found present, not copied
	Copies int   // images copied in
	Bytes  int64 // bytes of blobs pushed by copies
	// Hashed counts the blob files read to check them (by Ensure, Verify
	// and the server). A blob whose file matches the identity recorded
	// when this machine last found it intact is not read.
	Hashed int
}

// Option configures a Mirror.
type Option func(*Mirror)

// WithLockTimeout bounds how long Ensure waits for another process that is
// adding images (default 10 minutes). Waiting for another process's recipe
// build is bounded by the longer of this and the build's own limit (2
// hours).
func WithLockTimeout(d time.Duration) Option {
	return func(m *Mirror) { m.lockTimeout = d }
}

// WithLog sends the registry's own log (warnings and errors) and the
// mirror's (damaged blobs found and removed) to w instead of discarding
// them. Requests are served concurrently: w must be safe for concurrent
// use.
func WithLog(w io.Writer) Option {
	return func(m *Mirror) { m.log = w }
}

// EnvListen sets the address the mirror listens on, for daemons that
// matrixbox did not start (remote workers) and that cannot reach
// 127.0.0.1 of the test process: a host ("0.0.0.0", "172.17.0.1") for a
// free port, or host:port for a fixed one, which a daemon's configuration
// can name once and for all. With a fixed port, the test processes of one
// go test share the port (SO_REUSEPORT on Linux); they serve the same
// directory. WithListen overrides it.
const EnvListen = "MATRIXBOX_MIRROR_LISTEN"

// DefaultListen is where a mirror listens unless told otherwise: a free
// loopback port.
const DefaultListen = "127.0.0.1:0"

// WithListen makes the mirror listen on addr, a host or host:port, instead
// of a free port of 127.0.0.1; see EnvListen.
func WithListen(addr string) Option {
	return func(m *Mirror) {
		l, err := parseListen(addr)
		if err != nil {
			m.cfgErr = fmt.Errorf("WithListen: %w", err)
			return
		}
		m.listen, m.listenFrom = l, fmt.Sprintf("WithListen(%q)", addr)
	}
}

// parseListen turns a host or host:port into host:port.
func parseListen(addr string) (string, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		if ip := net.ParseIP(strings.Trim(addr, "[]")); ip != nil || addr == "localhost" {
			return net.JoinHostPort(strings.Trim(addr, "[]"), "0"), nil
		}
		return "", fmt.Errorf("%q: want a host or host:port, e.g. 0.0.0.0 or 172.17.0.1:5000", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("%q: port %q is not a number from 0 to 65535 (0 for a free one)", addr, port)
	}
	return addr, nil
}

// EnvLockTimeout overrides the default lock timeout of New and Shared.
const EnvLockTimeout = "MATRIXBOX_MIRROR_LOCK_TIMEOUT"

// New returns a mirror over dir. Nothing starts until Start or Ensure.
func New(dir string, opts ...Option) *Mirror {
	m := &Mirror{dir: dir, listen: DefaultListen, lockTimeout: 10 * time.Minute, log: io.Discard, hosts: map[string]bool{}}
	if v := os.Getenv(EnvListen); v != "" {
		l, err := parseListen(v)
		if err != nil {
			m.cfgErr = fmt.Errorf("%s: %w", EnvListen, err)
		}
		m.listen, m.listenFrom = l, fmt.Sprintf("%s=%q", EnvListen, v)
	}
	if v := os.Getenv(EnvLockTimeout); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			m.cfgErr = fmt.Errorf("%s=%q: want a positive duration such as 30s", EnvLockTimeout, v)
		}
		m.lockTimeout = d
	}
	for _, o := range opts {
		o(m)
	}
	return m
}

func (m *Mirror) logf(format string, args ...any) {
	fmt.Fprintf(m.log, format+"\n", args...)
}

var (
	sharedOnce sync.Once
	shared     *Mirror
)

// Shared returns the process-wide mirror over DefaultDir. It is lazy:
// nothing is created or started before Start (or Ensure).
func Shared() *Mirror {
	sharedOnce.Do(func() { shared = New("") })
	return shared
}

// DefaultDir is $MATRIXBOX_MIRROR_DIR, or matrixbox/mirror under the user
// cache directory.
func DefaultDir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return filepath.Abs(d)
	}
	c, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("mirror directory: set %s: %w", EnvDir, err)
	}
	return filepath.Join(c, "matrixbox", "mirror"), nil
}

// Start makes the mirror serve its directory on a free port of 127.0.0.1,
// or where WithListen or MATRIXBOX_MIRROR_LISTEN say (once: later calls
// return the same address), and returns host:port. Listening on every
// address (0.0.0.0 or ::), it returns the port on 127.0.0.1.
func (m *Mirror) Start(ctx context.Context) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return "", errors.New("mirror: Start after Close")
	}
	if m.cfgErr != nil {
		return "", m.cfgErr
	}
	if m.srv != nil {
		return m.srv.addr, nil
	}
	if err := m.pickDirLocked(); err != nil {
		return "", m.dirError(err)
	}
	if err := m.makeDirs(); err != nil {
		return "", m.dirError(err)
	}
	if _, port, _ := net.SplitHostPort(m.listen); port != "0" && m.access.shared == nil {
		// A fixed port is shared with the other test processes that
		// listen on it: each serves what any of them declared.
		shared, err := newDeclaredFiles(m.declaredDir())
		if err != nil {
			return "", m.dirError(err)
		}
		m.access.mu.Lock()
		m.access.shared = shared
		m.access.mu.Unlock()
	}
	srv, err := serve(ctx, m.listen, m.storageDir(), m.log, logrus.WarnLevel, func(w http.ResponseWriter, r *http.Request, registry http.Handler) {
		m.access.handle(w, r, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			m.blobs.refuseDamaged(w, r, registry)
		}))
	})
	if err != nil {
		if m.listenFrom != "" {
			err = fmt.Errorf("%s: %w", m.listenFrom, err)
		}
		return "", fmt.Errorf("mirror %s: %w", m.dir, err)
	}
	m.srv = srv
	return srv.addr, nil
}

// makeDirs makes the mirror's directories and proves that this user can
// write them.
func (m *Mirror) makeDirs() error {
	for _, d := range []string{m.dir, m.imagesDir(), m.recipesDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	f, err := os.CreateTemp(m.dir, ".tmp-probe-*")
	if err != nil {
		return err
	}
	return errors.Join(f.Close(), os.Remove(f.Name()))
}

// dirError says which directory failed, and, when MATRIXBOX_MIRROR_DIR
// chose it, names the variable.
func (m *Mirror) dirError(err error) error {
	if m.dir == "" {
		return err
	}
	if m.dirFrom != "" {
		return fmt.Errorf("%s: %w; set it to a directory this user can write, or unset it for the default under the user cache directory", m.dirFrom, err)
	}
	return fmt.Errorf("mirror %s: %w", m.dir, err)
}

// pickDirLocked settles the directory (DefaultDir for Shared) and the
// blob checker over it. m.mu is held.
func (m *Mirror) pickDirLocked() error {
	if m.dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return err
		}
		m.dir = d
		if v := os.Getenv(EnvDir); v != "" {
			m.dirFrom = fmt.Sprintf("%s=%q", EnvDir, v)
		}
	}
	if m.blobs == nil {
		m.blobs = newBlobStore(m.storageDir(), m.verifiedDir(), m.logf)
		m.access = newAccess(m.storageDir(), m.logf)
		w, err := newStoreWriter(m.storageDir(), m.log)
		if err != nil {
			return err
		}
		m.writer = w
	}
	return nil
}

// declare adds rec's image to what the server serves.
func (m *Mirror) declare(rec record) {
	m.mu.Lock()
	a := m.access
	m.mu.Unlock()
	a.declare(rec)
}

// RefusedSince describes, once each, the images the server refused at or
// after t because no Ensure of this process (no Run's
// WithMirroredImages) declared them; what integration.Run names when it
// fails the Run on them.
func (m *Mirror) RefusedSince(t time.Time) []string {
	m.mu.Lock()
	a := m.access
	m.mu.Unlock()
	if a == nil {
		return nil
	}
	return a.refusedSince(t)
}

// store is the blob checker, over the directory it settles first.
func (m *Mirror) store() (*blobStore, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.pickDirLocked(); err != nil {
		return nil, err
	}
	return m.blobs, nil
}

// Addr is the host:port the mirror serves on; "" before Start.
func (m *Mirror) Addr() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.srv == nil {
		return ""
	}
	return m.srv.addr
}

// Dir is the mirror's directory ("" for Shared before Start).
func (m *Mirror) Dir() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dir
}

// Hosts lists, sorted, the registry hosts of every target Ensure was asked
// for, so that daemon configuration can mirror each of them (not only
// docker.io). See RepoPrefix for where each host's images live.
func (m *Mirror) Hosts() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	hs := make([]string, 0, len(m.hosts))
	for h := range m.hosts {
		hs = append(hs, h)
	}
	slices.Sort(hs)
	return hs
}

// Stats reports what this Mirror did so far.
func (m *Mirror) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.stats
	if m.blobs != nil {
		s.Hashed = m.blobs.hashedCount()
	}
	return s
}

// Close stops the server. The directory and its images stay.
func (m *Mirror) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	var err error
	if m.access != nil && m.access.shared != nil {
		err = m.access.shared.close()
		m.access.shared = nil
	}
	if m.srv == nil {
		return err
	}
	err = errors.Join(err, m.srv.close())
	m.srv = nil
	return err
}

// NewRegistry starts a private, empty registry keeping its data under dir
// and logging every request to log; stop shuts it down (dir stays: it is
// the caller's).
func (m *Mirror) NewRegistry(ctx context.Context, dir string, log io.Writer) (addr string, stop func() error, err error) {
	return NewRegistry(ctx, dir, log)
}

// NewRegistry starts a registry over dir, listening on 127.0.0.1, and
// logging requests to log (nil: discard).
func NewRegistry(ctx context.Context, dir string, log io.Writer) (addr string, stop func() error, err error) {
	if log == nil {
		log = io.Discard
	}
	srv, err := serve(ctx, DefaultListen, dir, log, logrus.InfoLevel, nil)
	if err != nil {
		return "", nil, err
	}
	return srv.addr, srv.close, nil
}

func (m *Mirror) storageDir() string  { return filepath.Join(m.dir, "registry") }
func (m *Mirror) imagesDir() string   { return filepath.Join(m.dir, "images") }
func (m *Mirror) recipesDir() string  { return filepath.Join(m.dir, "recipes") }
func (m *Mirror) verifiedDir() string { return filepath.Join(m.dir, "verified") }
func (m *Mirror) lockPath() string    { return filepath.Join(m.dir, "lock") }
func (m *Mirror) declaredDir() string { return filepath.Join(m.dir, "declared") }
func (m *Mirror) copyLog() string     { return filepath.Join(m.dir, "copies.log") }
