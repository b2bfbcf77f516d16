package integration_test

import (
	"fmt"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/matrix"
)

func ExampleParseConfig() {
	// A typed axis decodes its values from the file's strings.
	integration.RegisterAxisDecoder("cpus", func(s string) (matrix.Value, error) {
		var n int
		if _, err := fmt.Sscanf(s, "%d", &n); err != nil || n < 1 {
			return matrix.Value{}, fmt.Errorf("want a number of CPUs ≥ 1")
		}
		return matrix.Value{Name: s + "cpu", V: n}, nil
	})
	fc, err := integration.ParseConfig("matrixbox.yaml", []byte("axes:\n  cpus: [1, 4]\nshards: 3\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	// Values are decoded only by a Run that declares the axis.
	fmt.Println(fc.Axes[0].Values, fc.Shards)
	fmt.Println(fc.Axes[0].Decode())
	fc, _ = integration.ParseConfig("matrixbox.yaml", []byte("axes:\n  cpus: [1, 2, many]\n"))
	fmt.Println(fc.Axes[0].Decode())
	// Output:
	// [1 4] 3
	// [{1cpu 1} {4cpu 4}] <nil>
	// [] matrixbox.yaml:2: axes.cpus: value "many" does not decode: want a number of CPUs ≥ 1
}
