package workers_test

import (
	"fmt"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/workers"
)

func ExampleHost() {
	integration.Register(workers.Host())
	fmt.Println(workers.Host().Name())
	// Output: host
}
