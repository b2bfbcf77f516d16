package buildkittest

import (
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
)

// TestProgressFailures: the progress shows every step with its output,
// and the failure names the failing step with its own output alone.
func TestProgressFailures(t *testing.T) {
	now := time.Now()
	ch := make(chan *client.SolveStatus, 4)
	ch <- &client.SolveStatus{Vertexes: []*client.Vertex{
		{Digest: "sha256:a", Name: "[1/2] FROM busybox", Started: &now, Completed: &now},
		{Digest: "sha256:b", Name: "[2/2] RUN make", Started: &now},
	}}
	ch <- &client.SolveStatus{Logs: []*client.VertexLog{
		{Vertex: "sha256:b", Data: []byte("compiling\nerror: no ")},
		{Vertex: "sha256:b", Data: []byte("rule for target\npartial")},
	}}
	ch <- &client.SolveStatus{Vertexes: []*client.Vertex{
		{Digest: "sha256:b", Name: "[2/2] RUN make", Started: &now, Completed: &now, Error: "exit code: 2"},
	}}
	close(ch)
	p := newProgress()
	p.consume(ch)
	for _, want := range []string{"#1 [1/2] FROM busybox\n", "#1 DONE", "#2 [2/2] RUN make\n", "#2 compiling\n", "#2 error: no rule for target\n", "#2 partial\n", "#2 ERROR: exit code: 2\n"} {
		if !strings.Contains(p.text.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, p.text.String())
		}
	}
	f := p.failures()
	if !strings.Contains(f, "step #2 [2/2] RUN make failed: exit code: 2") || !strings.Contains(f, "compiling\nerror: no rule for target\npartial\n") {
		t.Errorf("failures:\n%s", f)
	}
	if strings.Contains(f, "FROM busybox") {
		t.Errorf("failures name a step that passed:\n%s", f)
	}
}
