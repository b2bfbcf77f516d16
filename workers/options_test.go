package workers

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/sandbox"
)

// everyOption is one value of each option, by name.
var everyOption = map[string]Option{
	"WithName":            WithName("w"),
	"WithBinary":          WithBinary("/usr/bin/true"),
	"WithVersions":        WithVersions(BuildkitAxis, "v0.34.2"),
	"WithRootless":        WithRootless(),
	"WithArgs":            WithArgs("--debug"),
	"WithEnv":             WithEnv("A=1"),
	"WithBuildkitdConfig": WithBuildkitdConfig(func(*sandbox.Config) (string, func() error, error) { return "", nil, nil }),
	"WithFeatures":        WithFeatures("f"),
	"WithoutFeatures":     WithoutFeatures("f"),
	"WithImage":           WithImage("busybox"),
	"WithNamespace":       WithNamespace("ci"),
	"WithTLS":             WithTLS(TLS{Insecure: true}),
	"WithTLSDir":          WithTLSDir("/nonexistent"),
}

// construct makes the worker of ctor with opts, without touching a daemon.
func construct(ctor string, opts ...Option) sandbox.Worker {
	switch ctor {
	case ctorBuildkitdOCI:
		return BuildkitdOCI(opts...)
	case ctorBuildkitdContainerd:
		return BuildkitdContainerd(opts...)
	case ctorContainerd:
		return Containerd(opts...)
	case ctorDockerd:
		return Dockerd(opts...)
	case ctorDockerdContainerd:
		return DockerdContainerd(opts...)
	case ctorRemoteBuildkit:
		return RemoteBuildkit("farm", "tcp://127.0.0.1:1", opts...)
	case ctorRemoteDockerd:
		return RemoteDockerd("farm", "tcp://127.0.0.1:1", opts...)
	case ctorRemoteContainerd:
		return RemoteContainerd("farm", "/run/c.sock", opts...)
	}
	panic(ctor)
}

func optionsErr(w sandbox.Worker) error {
	switch w := w.(type) {
	case *buildkitdWorker:
		return w.opts.err
	case *containerdWorker:
		return w.opts.err
	case *dockerdWorker:
		return w.opts.err
	case *remoteWorker:
		return w.opts.err
	}
	panic(w)
}

// Every option is read by some worker, and each worker accepts exactly the
// options that say they are for it.
func TestEachWorkerAcceptsTheOptionsItReads(t *testing.T) {
	var names []string
	for name := range everyOption {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		readers := optionReaders[name]
		if len(readers) == 0 {
			t.Errorf("%s: no worker reads it (optionReaders)", name)
		}
		for _, ctor := range append(append([]string(nil), localWorkers...), remoteWorkers...) {
			err := optionsErr(construct(ctor, everyOption[name]))
			reads := false
			for _, r := range readers {
				reads = reads || r == ctor
			}
			if reads && err != nil {
				t.Errorf("workers.%s given %s: %v", ctor, name, err)
			}
			if !reads && (err == nil || !strings.Contains(err.Error(), "workers."+name+": ")) {
				t.Errorf("workers.%s given %s, which it does not read: error %v", ctor, name, err)
			}
		}
	}
	if len(optionReaders) != len(everyOption) {
		t.Errorf("optionReaders has %d options, the test %d", len(optionReaders), len(everyOption))
	}
}

func TestOptionNotReadFailsTheWorker(t *testing.T) {
	for _, c := range []struct {
		w    sandbox.Worker
		want string
	}{
		{BuildkitdOCI(WithImage("alpine")), `workers.WithImage: worker "buildkitd-oci" (workers.BuildkitdOCI) does not read it; only workers.Containerd and workers.RemoteContainerd read it`},
		{Containerd(WithName("c16"), WithArgs("--log-level=debug")), `workers.WithArgs: worker "c16" (workers.Containerd) does not read it; only workers.BuildkitdOCI, workers.BuildkitdContainerd, workers.Dockerd and workers.DockerdContainerd read it`},
		{Dockerd(WithBuildkitdConfig(nil)), `workers.WithBuildkitdConfig: worker "dockerd" (workers.Dockerd) does not read it`},
		{RemoteBuildkit("farm", "tcp://127.0.0.1:1", WithName("other")), `workers.WithName: worker "farm" (workers.RemoteBuildkit) does not read it`},
		{RemoteContainerd("c", "/run/c.sock", WithTLSDir("/etc/tls")), `workers.WithTLSDir: worker "c" (workers.RemoteContainerd) does not read it; only workers.RemoteBuildkit and workers.RemoteDockerd read it`},
	} {
		err := c.w.(sandbox.Checker).Check()
		if !errors.Is(err, sandbox.ErrMisconfigured) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check() = %v, want a misconfiguration saying %q", err, c.want)
		}
		if _, ok := c.w.(*remoteWorker); ok {
			continue
		}
		// New refuses too, before starting anything, for a caller that
		// skips Check.
		if _, stop, err := c.w.New(context.Background(), &sandbox.Config{}); !errors.Is(err, sandbox.ErrMisconfigured) || stop != nil {
			t.Errorf("New() = %v, want the misconfiguration and no stop", err)
		}
	}
}
