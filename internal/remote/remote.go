package remote

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/matrixbox/matrixbox/sandbox"
)

// Daemon is implemented by workers whose backends are daemons that
// matrixbox did not start and never stops or signals (the remote workers of
// package workers). Their New attaches to the daemon and their stop only
// detaches, so the daemon's state outlives every case: a Run gives their
// cases a warm backend, shared unless the test asks for a reset one.
type Daemon interface {
	// RemoteAddress is the daemon's address as the user gave it.
	RemoteAddress() string
}

// Is reports whether w's backends are daemons matrixbox did not start.
func Is(w sandbox.Worker) bool {
	_, ok := w.(Daemon)
	return ok
}

// Kinder is implemented by workers that say which kind of daemon their
// backends are: "buildkit", "dockerd" or "containerd". A remote worker given
// in matrixbox.yaml or the environment joins the Runs that have a worker of
// its kind.
type Kinder interface {
	Kind() string
}

// KindOf is w's kind, "" when it does not say.
func KindOf(w sandbox.Worker) string {
	if k, ok := w.(Kinder); ok {
		return k.Kind()
	}
	return ""
}

// Spec describes a daemon that matrixbox did not start, as a user
// names it in matrixbox.yaml or the environment.
type Spec struct {
	// Name is the worker's value on the "worker" axis.
	Name string
	// Kind is the daemon's kind: "buildkit", "dockerd" or "containerd".
	Kind string
	// Address is the daemon's address, e.g. "tcp://10.0.0.5:1234" or
	// "unix:///run/buildkit/buildkitd.sock".
	Address string
	// Options are the kind's settings by key (TLS files, a namespace,
	// features); the kind's constructor rejects a key it does not know.
	Options map[string]string
	// Source says where the spec was given, for errors, e.g.
	// "MATRIXBOX_REMOTE_BUILDKIT" or "matrixbox.yaml:12".
	Source string
}

// Constructor makes the worker of a Spec.
type Constructor func(Spec) (sandbox.Worker, error)

var (
	remoteMu    sync.Mutex
	remoteKinds = map[string]Constructor{}
)

// Register makes New build specs of kind with fn. Package
// workers registers "buildkit", "dockerd" and "containerd" when it is
// imported.
func Register(kind string, fn Constructor) {
	remoteMu.Lock()
	defer remoteMu.Unlock()
	remoteKinds[kind] = fn
}

// New makes the worker a spec describes. Its error names the spec's
// source, name and the offending input.
func New(s Spec) (sandbox.Worker, error) {
	remoteMu.Lock()
	fn := remoteKinds[s.Kind]
	remoteMu.Unlock()
	if fn == nil {
		kinds := remoteKindNames()
		if len(kinds) == 0 {
			return nil, fmt.Errorf("%s: remote worker %s: no remote kinds are known: import github.com/matrixbox/matrixbox/workers", s.Source, s.Name)
		}
		return nil, fmt.Errorf("%s: remote worker %s: unknown kind %q (known: %s)", s.Source, s.Name, s.Kind, strings.Join(kinds, ", "))
	}
	w, err := fn(s)
	if err != nil {
		return nil, fmt.Errorf("%s: remote worker %s: %w", s.Source, s.Name, err)
	}
	return w, nil
}

// remoteKindNames lists the kinds New knows, sorted.
func remoteKindNames() []string {
	remoteMu.Lock()
	defer remoteMu.Unlock()
	var kinds []string
	for k := range remoteKinds {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return kinds
}
