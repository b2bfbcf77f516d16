package sandbox

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Remote is implemented by workers whose backends are daemons that
// matrixbox did not start and never stops or signals (the remote workers of
// package workers). Their New attaches to the daemon and their stop only
// detaches, so the daemon's state outlives every case: a Run gives their
// cases a warm backend, shared unless the test asks for a reset one.
type Remote interface {
	// RemoteAddress is the daemon's address as the user gave it.
	RemoteAddress() string
}

// IsRemote reports whether w's backends are daemons matrixbox did not
// start.
func IsRemote(w Worker) bool {
	_, ok := w.(Remote)
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
func KindOf(w Worker) string {
	if k, ok := w.(Kinder); ok {
		return k.Kind()
	}
	return ""
}

// RemoteSpec describes a daemon that matrixbox did not start, as a user
// names it in matrixbox.yaml or the environment.
type RemoteSpec struct {
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

// RemoteConstructor makes the worker of a RemoteSpec.
type RemoteConstructor func(RemoteSpec) (Worker, error)

var (
	remoteMu    sync.Mutex
	remoteKinds = map[string]RemoteConstructor{}
)

// RegisterRemote makes NewRemote build specs of kind with fn. Package
// workers registers "buildkit", "dockerd" and "containerd" when it is
// imported.
func RegisterRemote(kind string, fn RemoteConstructor) {
	remoteMu.Lock()
	defer remoteMu.Unlock()
	remoteKinds[kind] = fn
}

// NewRemote makes the worker a spec describes. Its error names the spec's
// source, name and the offending input.
func NewRemote(s RemoteSpec) (Worker, error) {
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

// remoteKindNames lists the kinds NewRemote knows, sorted.
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

// Attacher is implemented by backends that can tell a person at a shell
// how to reach them: one ready command line each, such as
// "buildctl --addr unix:///tmp/mbx-1-2/b/buildkitd.sock debug workers".
// integration's MATRIXBOX_KEEP prints them for a kept sandbox; a backend
// without it gets lines made from its Env.
type Attacher interface {
	AttachCommands() []string
}
