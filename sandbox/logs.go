package sandbox

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// Logs is a set of named buffers that daemons write to from their own
// goroutines and the test goroutine reads. Writes made through [Logs.Writer]
// and reads made through [Logs.Text] and [Logs.String] are serialized.
type Logs struct {
	mu sync.Mutex
	m  map[string]*bytes.Buffer
}

// NewLogs returns an empty set.
func NewLogs() *Logs { return &Logs{m: map[string]*bytes.Buffer{}} }

// Map returns the live map. Add buffers to it from the test goroutine only;
// read buffers that a daemon still writes with [Logs.Text].
func (l *Logs) Map() map[string]*bytes.Buffer { return l.m }

// Writer returns a writer that appends to the buffer name, creating it.
func (l *Logs) Writer(name string) io.Writer {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.m[name]
	if !ok {
		b = &bytes.Buffer{}
		l.m[name] = b
	}
	return &logWriter{mu: &l.mu, b: b}
}

// Printf appends a formatted line to the buffer name.
func (l *Logs) Printf(name, format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	if !strings.HasSuffix(line, "\n") {
		line += "\n"
	}
	_, _ = io.WriteString(l.Writer(name), line)
}

// Text returns the current content of the buffer name.
func (l *Logs) Text(name string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.m[name]; ok {
		return b.String()
	}
	return ""
}

// String formats every buffer, sorted by name, each under a header.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	names := make([]string, 0, len(l.m))
	for k := range l.m {
		names = append(names, k)
	}
	sort.Strings(names)
	var sb strings.Builder
	for _, k := range names {
		b := l.m[k]
		if b == nil || b.Len() == 0 {
			continue
		}
		fmt.Fprintf(&sb, "===== %s =====\n%s", k, b.String())
		if !bytes.HasSuffix(b.Bytes(), []byte("\n")) {
			sb.WriteByte('\n')
		}
	}
	return sb.String()
}

type logWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
