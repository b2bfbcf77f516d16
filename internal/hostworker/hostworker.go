// Package hostworker is the worker that starts no daemon: commands run on
// the host in the sandbox directory. Users reach it as workers.Host;
// package integration, which may not import workers, runs on it when a Run
// is given no worker.
package hostworker

import (
	"context"

	"github.com/matrixbox/matrixbox/sandbox"
)

// Name is the host worker's name, its cells' worker=host.
const Name = "host"

// New returns the host worker.
func New() sandbox.Worker { return worker{} }

type worker struct{}

func (worker) Name() string { return Name }

func (worker) New(context.Context, *sandbox.Config) (sandbox.Backend, func() error, error) {
	return backend{}, nil, nil
}

type backend struct{}

func (backend) Address() string { return "" }
