package mirror

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"os"
	"reflect"
	"sync"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem" // the only driver we use
	"github.com/sirupsen/logrus"
)

// server is one in-process OCI distribution registry over a filesystem
// directory, listening on a loopback port.
type server struct {
	addr     string
	ln       net.Listener
	inflight sync.WaitGroup
	errLog   io.Closer
	srv      *http.Server
	app      *handlers.App
	done     chan error
}

// serve starts a registry storing its data under dir (created if needed) and
// logging to log at level, listening on listen (host:port; port 0 for a
// free one). front, when not nil, sees each request first and answers it
// itself or passes it on to the registry.
func serve(ctx context.Context, listen, dir string, log io.Writer, level logrus.Level, front func(w http.ResponseWriter, r *http.Request, registry http.Handler)) (s *server, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("registry storage %s: %w", dir, err)
	}
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("registry secret: %w", err)
	}
	cfg := &configuration.Configuration{
		Storage: configuration.Storage{
			"filesystem": configuration.Parameters{"rootdirectory": dir},
			// Another process may be uploading into a shared directory; only
			// the mirror's own lock holder cleans up stale uploads.
			"maintenance": configuration.Parameters{"uploadpurging": map[any]any{"enabled": false}},
		},
	}
	cfg.HTTP.Secret = hex.EncodeToString(secret)

	logger := logrus.New()
	logger.Out = log
	logger.Level = level
	entry := logrus.NewEntry(logger).WithField("registry", dir)

	// Start the app on a background context: the server must outlive the
	// caller's ctx, which may be a single test's.
	appCtx := withRegistryLogger(context.WithoutCancel(ctx), entry)
	app, err := newApp(appCtx, cfg)
	if err != nil {
		return nil, fmt.Errorf("registry over %s: %w", dir, err)
	}
	ln, err := listenShared(ctx, listen)
	if err != nil {
		_ = app.Shutdown()
		return nil, fmt.Errorf("registry listen on %s: %w", listen, err)
	}
	errLog := entry.WriterLevel(logrus.WarnLevel)
	registry := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		app.ServeHTTP(w, r.WithContext(withRegistryLogger(r.Context(), entry)))
	})
	s = &server{
		ln:     ln,
		errLog: errLog,
		addr:   dialable(ln.Addr()),
		app:    app,
		done:   make(chan error, 1),
		srv: &http.Server{
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s.inflight.Add(1)
				defer s.inflight.Done()
				if front != nil {
					front(w, r, registry)
					return
				}
				registry.ServeHTTP(w, r)
			}),
			ReadHeaderTimeout: 30 * time.Second,
			ErrorLog:          stdlog.New(errLog, "", 0),
		},
	}
	go func() {
		err := s.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
			err = nil
		}
		s.done <- err
	}()
	return s, nil
}

// newApp turns the registry library's panics on bad configuration into an
// error: library code here never panics.
func newApp(ctx context.Context, cfg *configuration.Configuration) (app *handlers.App, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("start registry: %v", r)
		}
	}()
	return handlers.NewApp(ctx, cfg), nil
}

// close stops accepting, lets requests in flight finish (a few seconds at
// most), then closes every connection and releases the app.
//
// http.Server.Shutdown is not used: it waits up to 5 s for connections
// that were opened but never carried a request, which containerd's client
// leaves behind.
func (s *server) close() error {
	err := s.ln.Close()
	finished := make(chan struct{})
	go func() { s.inflight.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(5 * time.Second):
	}
	// The listener is closed already; the server closing it again is not
	// an error.
	cerr := s.srv.Close()
	if errors.Is(cerr, net.ErrClosed) {
		cerr = nil
	}
	err = errors.Join(err, cerr, <-s.done, s.app.Shutdown(), s.errLog.Close())
	if err != nil {
		return fmt.Errorf("stop registry %s: %w", s.addr, err)
	}
	return nil
}

// registryLoggerContext gives the registry library a logger of our own.
//
// The library takes its logger from a context value under an unexported key
// type (dcontext.loggerKey) and otherwise falls back to logrus's process-wide
// logger, which would print a line per request on the test's stderr and could
// only be quietened by changing global state. Answering for that key type by
// name keeps each registry's log in its own writer; should the library rename
// the key, logs fall back to logrus's default and TestRegistryLogGoesToWriter
// fails.
type registryLoggerContext struct {
	context.Context
	entry *logrus.Entry
}

func withRegistryLogger(ctx context.Context, entry *logrus.Entry) context.Context {
	return registryLoggerContext{Context: ctx, entry: entry}
}

func (c registryLoggerContext) Value(key any) any {
	if t := reflect.TypeOf(key); t != nil && t.Name() == "loggerKey" && t.PkgPath() == "github.com/distribution/distribution/v3/internal/dcontext" {
		return c.entry
	}
	return c.Context.Value(key)
}
