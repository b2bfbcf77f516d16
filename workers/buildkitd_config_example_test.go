package workers_test

import (
	"fmt"

	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
)

// A matrix value that changes the daemon's configuration: the cells with
// entitlements=insecure run a buildkitd that grants security.insecure.
// Tests write CDI specs into workers.CDISpecDir(sb).
func ExampleWithBuildkitdConfig() {
	w := workers.BuildkitdOCI(
		workers.WithBuildkitdConfig(func(cfg *sandbox.Config) (string, func() error, error) {
			if cfg.Cell.Value("entitlements") == "insecure" {
				return `insecure-entitlements = ["security.insecure"]`, nil, nil
			}
			return "", nil, nil
		}),
		workers.WithEnv("BUILDKIT_DEBUG_EXEC_OUTPUT=1"),
	)
	fmt.Println(w.Name())
	// Output: buildkitd-oci
}
