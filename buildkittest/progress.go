package buildkittest

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/moby/buildkit/client"
	"github.com/opencontainers/go-digest"
)

// maxStepOutput bounds how much of a failing step's output an error
// carries: its end, where the cause usually is.
const maxStepOutput = 32 << 10

// progress turns BuildKit's status stream into plain text, one line per
// event, as `docker build --progress=plain` shows it, and keeps each
// step's output for the error of a failing solve.
type progress struct {
	text  strings.Builder
	steps map[digest.Digest]*step
	order []*step
}

type step struct {
	n       int
	name    string
	output  bytes.Buffer
	partial []byte // an output line not yet ended
	err     string
	done    bool
	rec     Step // what WithSteps returns of it
}

func newProgress() *progress { return &progress{steps: map[digest.Digest]*step{}} }

// consume reads ch until it is closed.
func (p *progress) consume(ch <-chan *client.SolveStatus) {
	for st := range ch {
		for _, v := range st.Vertexes {
			s := p.step(v.Digest, v.Name)
			s.record(v)
			switch {
			case s.done:
			case v.Error != "":
				s.done, s.err = true, v.Error
				p.flush(s)
				fmt.Fprintf(&p.text, "#%d ERROR: %s\n", s.n, v.Error)
			case v.Cached:
				s.done = true
				fmt.Fprintf(&p.text, "#%d CACHED\n", s.n)
			case v.Completed != nil:
				s.done = true
				p.flush(s)
				took := ""
				if v.Started != nil {
					took = " " + v.Completed.Sub(*v.Started).Round(1e6).String()
				}
				fmt.Fprintf(&p.text, "#%d DONE%s\n", s.n, took)
			}
		}
		for _, l := range st.Logs {
			s := p.step(l.Vertex, "")
			s.output.Write(l.Data)
			data := append(s.partial, l.Data...)
			for {
				i := bytes.IndexByte(data, '\n')
				if i < 0 {
					break
				}
				fmt.Fprintf(&p.text, "#%d %s\n", s.n, data[:i])
				data = data[i+1:]
			}
			s.partial = append([]byte(nil), data...)
		}
		for _, w := range st.Warnings {
			s := p.step(w.Vertex, "")
			fmt.Fprintf(&p.text, "#%d WARNING: %s\n", s.n, w.Short)
		}
	}
	for _, s := range p.order {
		p.flush(s)
	}
}

// record keeps what an update of the vertex says: BuildKit sends a vertex
// again each time it changes.
func (s *step) record(v *client.Vertex) {
	r := &s.rec
	r.Digest, r.Cached = v.Digest, r.Cached || v.Cached
	if v.Name != "" {
		r.Name = v.Name
	}
	if v.Started != nil && (r.Started.IsZero() || v.Started.Before(r.Started)) {
		r.Started = *v.Started
	}
	if v.Completed != nil {
		r.Completed = *v.Completed
	}
	if v.Error != "" {
		r.Error = v.Error
	}
}

// result returns what the solve did, step by step.
func (p *progress) result() Steps {
	out := make(Steps, 0, len(p.order))
	for _, s := range p.order {
		r := s.rec
		if !r.Started.IsZero() && !r.Completed.IsZero() {
			r.Duration = r.Completed.Sub(r.Started)
		}
		out = append(out, r)
	}
	return out
}

// step returns the step of vertex d, numbering it and printing its name
// when first seen.
func (p *progress) step(d digest.Digest, name string) *step {
	s, ok := p.steps[d]
	if !ok {
		s = &step{n: len(p.order) + 1}
		p.steps[d] = s
		p.order = append(p.order, s)
	}
	if s.name == "" && name != "" {
		s.name = name
		fmt.Fprintf(&p.text, "#%d %s\n", s.n, name)
	}
	return s
}

func (p *progress) flush(s *step) {
	if len(s.partial) > 0 {
		fmt.Fprintf(&p.text, "#%d %s\n", s.n, s.partial)
		s.partial = nil
	}
}

// failures describes each step that failed, with its output.
func (p *progress) failures() string {
	var b strings.Builder
	for _, s := range p.order {
		if s.err == "" {
			continue
		}
		fmt.Fprintf(&b, "\n----- step #%d %s failed: %s -----\n", s.n, s.name, s.err)
		out := s.output.Bytes()
		if len(out) > maxStepOutput {
			fmt.Fprintf(&b, "[… %d bytes before]\n", len(out)-maxStepOutput)
			out = out[len(out)-maxStepOutput:]
		}
		if len(out) == 0 {
			b.WriteString("(no output)\n")
		}
		b.Write(out)
		if len(out) > 0 && out[len(out)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	return b.String()
}
