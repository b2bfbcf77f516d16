package buildkittest

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
)

// Step is what a solve did with one vertex of its graph, as BuildKit's
// progress reported it.
type Step struct {
	// Name is the vertex's name as the progress shows it: for a
	// Dockerfile's instruction its number in brackets, then the
	// instruction ("RUN make" as the second of three), for BuildKit's own
	// steps e.g. "exporting to client directory".
	Name   string
	Digest digest.Digest
	// Cached says BuildKit took the step's result from its cache: it did
	// not run.
	Cached bool
	// Started and Completed are zero when BuildKit did not report them;
	// Duration is Completed - Started, 0 for a step that did not complete.
	Started, Completed time.Time
	Duration           time.Duration
	// Error is why the step failed, "" when it did not.
	Error string
}

// Steps are the steps of one solve, in the order BuildKit first reported
// them. [WithSteps] collects them.
type Steps []Step

// WithSteps fills *s with what the solve did, step by step, when it
// returns (a failed solve's too), so that a test asserts on cache hits
// without reading the progress log:
//
//	var steps buildkittest.Steps
//	buildkittest.Dockerfile(t, sb, dockerfile, files, buildkittest.WithSteps(&steps))
//	if got := steps.Instructions(); len(got.Cached()) != 3 || len(got.Ran()) != 1 {
//		t.Errorf("want 3 steps cached and 1 run:\n%s", got)
//	}
func WithSteps(s *Steps) Option {
	return func(st *settings) { st.steps = s }
}

// Cached returns the steps taken from the cache.
func (s Steps) Cached() Steps {
	return s.filter(func(st Step) bool { return st.Cached })
}

// Ran returns the steps that ran to completion: not from the cache, not
// failed.
func (s Steps) Ran() Steps {
	return s.filter(func(st Step) bool { return !st.Cached && st.Error == "" && !st.Completed.IsZero() })
}

// instruction is the name of a Dockerfile instruction's step: its
// number of the stage's, after the stage's name or platform when there is
// one, in brackets, then the instruction.
var instruction = regexp.MustCompile(`^\[([^\]]+ )?\d+/\d+\] `)

// Instructions returns the steps of a Dockerfile's instructions (FROM,
// RUN, COPY, …), without BuildKit's internal steps (loading the
// Dockerfile, the context, metadata) and the export. A FROM of an image
// is resolved on every build: BuildKit reports it done, not cached.
func (s Steps) Instructions() Steps {
	return s.filter(func(st Step) bool { return instruction.MatchString(st.Name) })
}

func (s Steps) filter(keep func(Step) bool) Steps {
	var out Steps
	for _, st := range s {
		if keep(st) {
			out = append(out, st)
		}
	}
	return out
}

// String lists the steps one a line, each with what became of it, for a
// test's failure message.
func (s Steps) String() string {
	var b strings.Builder
	for _, st := range s {
		outcome := "not completed"
		switch {
		case st.Error != "":
			outcome = "ERROR: " + st.Error
		case st.Cached:
			outcome = "CACHED"
		case !st.Completed.IsZero():
			outcome = fmt.Sprintf("ran %s", st.Duration.Round(time.Millisecond))
		}
		fmt.Fprintf(&b, "%s: %s\n", st.Name, outcome)
	}
	return b.String()
}
