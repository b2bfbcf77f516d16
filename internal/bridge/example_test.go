package bridge_test

import (
	"fmt"

	"github.com/matrixbox/matrixbox/internal/bridge"
)

// The subnet of each slot: a dockerd given bridge mbxbr3 runs its
// containers in 198.18.3.0/24.
func ExampleGateway() {
	fmt.Println(bridge.NamePrefix+"3", bridge.Gateway(3))
	// Output:
	// mbxbr3 198.18.3.1/24
}
