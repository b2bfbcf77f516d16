package workers_test

import (
	"fmt"

	"github.com/matrixbox/matrixbox/compat/buildkit/workers"
)

// A suite chooses its workers in an init function, as with BuildKit's
// harness; TEST_DOCKERD=1 switches to dockerd.
func Example() {
	if workers.IsTestDockerd() {
		workers.InitDockerdWorker()
	} else {
		workers.InitOCIWorker()
		workers.InitContainerdWorker()
	}
	fmt.Println(workers.FeatureOCIExporter)
	// Output: oci_exporter
}
