//go:build tools

// Package tools pins the daemons the matrixbox workers run. It is a separate
// module so that the library's users do not inherit their dependencies;
// scripts/install-tools.sh builds the binaries from it.
package tools

import (
	_ "github.com/containerd/containerd/v2/cmd/containerd"
	_ "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2"
	_ "github.com/moby/buildkit/cmd/buildctl"
	_ "github.com/moby/buildkit/cmd/buildkitd"
)
