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

// Map returns the live map, for an API that hands its callers a map
// (BuildKit's, in compat/buildkit). Add buffers to it from the test
// goroutine only; read buffers that a daemon still writes with [Logs.Text].
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
func (l *Logs) String() string { return l.stringSince(nil) }

// mark returns the current length of every buffer, for stringSince (the
// harness's box.Mark, through sandboxstate).
func (l *Logs) mark() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := map[string]int{}
	for k, b := range l.m {
		if b != nil {
			m[k] = b.Len()
		}
	}
	return m
}

// stringSince formats, as String does, only what was written after m: a
// case's logs printed while its daemon is still up, then what the daemon
// said while it stopped.
func (l *Logs) stringSince(m map[string]int) string {
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
		if b == nil || b.Len() <= m[k] {
			continue
		}
		text := b.Bytes()[m[k]:]
		more := ""
		if m[k] > 0 {
			more = " (continued)"
		}
		fmt.Fprintf(&sb, "===== %s%s =====\n%s", k, more, text)
		if !bytes.HasSuffix(text, []byte("\n")) {
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
