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

// TestProgressSteps: WithSteps's record of a solve keeps, per vertex, its
// name, whether it was cached, its times and its error, across the updates
// BuildKit sends of one vertex; Instructions keeps a Dockerfile's own.
func TestProgressSteps(t *testing.T) {
	t0 := time.Now()
	t1, t2 := t0.Add(time.Second), t0.Add(3*time.Second)
	ch := make(chan *client.SolveStatus, 4)
	ch <- &client.SolveStatus{Vertexes: []*client.Vertex{
		{Digest: "sha256:i", Name: "[internal] load build definition from Dockerfile", Started: &t0, Completed: &t1},
		{Digest: "sha256:a", Name: "[1/3] FROM docker.io/library/busybox:latest", Started: &t0},
		{Digest: "sha256:b", Name: "[base 2/3] RUN make", Started: &t1},
		{Digest: "sha256:c", Name: "[3/3] COPY x /x"},
	}}
	ch <- &client.SolveStatus{Vertexes: []*client.Vertex{
		{Digest: "sha256:a", Name: "[1/3] FROM docker.io/library/busybox:latest", Cached: true, Started: &t0, Completed: &t0},
		{Digest: "sha256:b", Name: "[base 2/3] RUN make", Started: &t1, Completed: &t2},
		{Digest: "sha256:c", Name: "[3/3] COPY x /x", Started: &t1, Completed: &t2, Error: "no such file"},
		{Digest: "sha256:e", Name: "exporting to client directory", Started: &t2},
	}}
	close(ch)
	p := newProgress()
	p.consume(ch)
	steps := p.result()
	if len(steps) != 5 {
		t.Fatalf("%d steps, want 5:\n%s", len(steps), steps)
	}
	b := steps[2]
	if b.Name != "[base 2/3] RUN make" || b.Cached || !b.Started.Equal(t1) || !b.Completed.Equal(t2) || b.Duration != 2*time.Second || b.Error != "" {
		t.Errorf("RUN step = %+v", b)
	}
	in := steps.Instructions()
	if len(in) != 3 || len(in.Cached()) != 1 || len(in.Ran()) != 1 || in.Ran()[0].Name != "[base 2/3] RUN make" {
		t.Errorf("instructions:\n%scached:\n%sran:\n%s", in, in.Cached(), in.Ran())
	}
	want := "[1/3] FROM docker.io/library/busybox:latest: CACHED\n[base 2/3] RUN make: ran 2s\n[3/3] COPY x /x: ERROR: no such file\n"
	if in.String() != want {
		t.Errorf("String:\n%swant\n%s", in, want)
	}
}
