package integration

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/internal/remote"
	"github.com/matrixbox/matrixbox/internal/repoconfig"
	"github.com/matrixbox/matrixbox/sandbox"
)

// Environment variables naming remote workers: daemons that matrixbox did
// not start and never stops. Each holds entries separated by spaces or
// newlines, each entry name=address, then ",key=value" options:
//
//	MATRIXBOX_REMOTE_BUILDKIT='farm=tcp://10.0.0.5:1234,tlsdir=/etc/ci/buildkit'
//	MATRIXBOX_REMOTE_DOCKERD='shared=unix:///var/run/docker.sock'
//	MATRIXBOX_REMOTE_CONTAINERD='host=/run/containerd/containerd.sock,namespace=ci'
//
// The standard BUILDKIT_HOST, DOCKER_HOST and CONTAINERD_ADDRESS are not
// read: they are set in many shells for a developer's own daemon, whose
// images and cache a test suite must not use (nor, with reset, wipe)
// unless asked by a variable of matrixbox's own.
const (
	envRemoteBuildkit   = "MATRIXBOX_REMOTE_BUILDKIT"
	envRemoteDockerd    = "MATRIXBOX_REMOTE_DOCKERD"
	envRemoteContainerd = "MATRIXBOX_REMOTE_CONTAINERD"
)

// remoteEnv pairs each variable with the kind of daemon it names.
var remoteEnv = []struct{ env, kind string }{
	{envRemoteBuildkit, "buildkit"},
	{envRemoteDockerd, "dockerd"},
	{envRemoteContainerd, "containerd"},
}

// remoteSpecsFromEnv parses the MATRIXBOX_REMOTE_* variables.
func remoteSpecsFromEnv() ([]remote.Spec, error) {
	var specs []remote.Spec
	for _, re := range remoteEnv {
		for _, entry := range strings.Fields(os.Getenv(re.env)) {
			s, err := parseRemoteEntry(re.env, re.kind, entry)
			if err != nil {
				return nil, err
			}
			specs = append(specs, s)
		}
	}
	return specs, nil
}

// parseRemoteEntry parses name=address[,key=value...].
func parseRemoteEntry(env, kind, entry string) (remote.Spec, error) {
	parts := strings.Split(entry, ",")
	name, addr, ok := strings.Cut(parts[0], "=")
	if !ok || name == "" || addr == "" {
		return remote.Spec{}, fmt.Errorf("%s: %q: want name=address[,key=value...]", env, entry)
	}
	s := remote.Spec{Name: name, Kind: kind, Address: addr, Options: map[string]string{}, Source: env}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return s, fmt.Errorf("%s: %q: option %q: want key=value", env, entry, p)
		}
		if _, dup := s.Options[k]; dup {
			return s, fmt.Errorf("%s: %q: option %s given twice", env, entry, k)
		}
		s.Options[k] = v
	}
	return s, nil
}

// remoteWorkers makes the remote workers of the environment and of the
// config file fc (nil: none); a name in both is the environment's.
func remoteWorkers(fc *repoconfig.File) ([]sandbox.Worker, error) {
	specs, err := remoteSpecsFromEnv()
	if err != nil {
		return nil, err
	}
	seen := map[string]string{}
	for _, s := range specs {
		if prev, dup := seen[s.Name]; dup {
			return nil, fmt.Errorf("remote worker %s is named in %s and in %s", s.Name, prev, s.Source)
		}
		seen[s.Name] = s.Source
	}
	if fc != nil {
		for _, s := range fc.Remote {
			if _, env := seen[s.Name]; !env {
				specs = append(specs, s)
			}
		}
	}
	var ws []sandbox.Worker
	for _, s := range specs {
		w, err := remote.New(s)
		if err != nil {
			return nil, err
		}
		ws = append(ws, w)
	}
	return ws, nil
}

// joinRemote adds remote workers to a Run's workers: one named like a
// worker of the Run takes its place, so that the same cells run on the
// remote daemon; one of a kind the Run has (a buildkit worker, a dockerd,
// a containerd) joins at the end. Others stay out, with a note saying so.
func joinRemote(workers, remotes []sandbox.Worker) ([]sandbox.Worker, []string, error) {
	if len(remotes) == 0 {
		return workers, nil, nil
	}
	out := slices.Clone(workers)
	kinds := map[string]bool{}
	for _, w := range workers {
		if k := remote.KindOf(w); k != "" {
			kinds[k] = true
		}
	}
	var notes []string
	for _, r := range remotes {
		i := slices.IndexFunc(out, func(w sandbox.Worker) bool { return w != nil && w.Name() == r.Name() })
		switch {
		case i >= 0:
			if k := remote.KindOf(out[i]); k != "" && k != remote.KindOf(r) {
				return nil, nil, fmt.Errorf("remote worker %s is a %s daemon and cannot take the place of the Run's %s worker of that name", r.Name(), remote.KindOf(r), k)
			}
			out[i] = r
			notes = append(notes, fmt.Sprintf("worker %s runs on the remote daemon at %s", r.Name(), remoteAddress(r)))
		case kinds[remote.KindOf(r)]:
			out = append(out, r)
		default:
			notes = append(notes, fmt.Sprintf("remote worker %s (%s) is not added: this Run has no %s worker", r.Name(), remote.KindOf(r), remote.KindOf(r)))
		}
	}
	return out, notes, nil
}

func remoteAddress(w sandbox.Worker) string {
	if r, ok := w.(remote.Daemon); ok {
		return r.RemoteAddress()
	}
	return ""
}

// withRemotes gives a Run the remote workers of the environment and the
// config file.
func withRemotes(t *testing.T, workers []sandbox.Worker) ([]sandbox.Worker, error) {
	t.Helper()
	fc, err := repoConfig()
	if err != nil {
		return nil, err
	}
	remotes, err := remoteWorkers(fc)
	if err != nil {
		return nil, err
	}
	if len(remotes) > 0 && len(workers) == 0 {
		workers = defaultWorkers()
	}
	ws, notes, err := joinRemote(workers, remotes)
	for _, n := range notes {
		t.Log("matrixbox: " + n)
	}
	return ws, err
}

// sharedOnRemote gives the fresh cases of remote workers a warm backend:
// their daemon is never started for them, so a fresh one cannot be had,
// and its state is shared unless the test asks for reset.
func sharedOnRemote(cases []caseSpec) {
	for i := range cases {
		if remote.Is(cases[i].worker) && cases[i].props.isolation == fresh {
			cases[i].props.isolation = shared
		}
	}
}
