package sandbox

import "context"

// HostWorkerName is the name of the worker that runs on the host.
const HostWorkerName = "host"

// HostWorker returns the worker that starts no daemon: commands run on the
// host in the sandbox directory. It is the default when no worker is
// registered; package workers re-exports it as workers.Host.
func HostWorker() Worker { return hostWorker{} }

type hostWorker struct{}

func (hostWorker) Name() string { return HostWorkerName }

func (hostWorker) New(context.Context, *Config) (Backend, func() error, error) {
	return hostBackend{}, nil, nil
}

type hostBackend struct{}

func (hostBackend) Address() string { return "" }
