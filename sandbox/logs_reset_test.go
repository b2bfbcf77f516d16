package sandbox

import (
	"io"
	"testing"
)

func TestLogsReset(t *testing.T) {
	l := NewLogs()
	w := l.Writer("daemon")
	io.WriteString(w, "before\n")
	l.Printf("test", "line")
	l.Reset()
	if s := l.String(); s != "" {
		t.Fatalf("after Reset: %q, want nothing", s)
	}
	io.WriteString(w, "after\n")
	if got := l.Text("daemon"); got != "after\n" {
		t.Fatalf("a writer made before Reset writes %q, want %q", got, "after\n")
	}
}
