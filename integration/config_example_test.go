package integration_test

import (
	"fmt"

	"github.com/matrixbox/matrixbox/integration"
)

func ExampleParseConfig() {
	// An axis with no decoder (integration.Main's WithAxisDecoder) has
	// plain strings for values.
	fc, err := integration.ParseConfig("matrixbox.yaml", []byte("axes:\n  cpus: [1, 4]\nshards: 3\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	// Values are decoded only by a Run that declares the axis.
	fmt.Println(fc.Axes[0].Values, fc.Shards)
	fmt.Println(fc.Axes[0].Decode())
	// Output:
	// [1 4] 3
	// [{1 1} {4 4}] <nil>
}
