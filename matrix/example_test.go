package matrix_test

import (
	"fmt"

	"github.com/matrixbox/matrixbox/matrix"
)

func ExampleExpand() {
	cells, _ := matrix.Expand(
		matrix.Strings("worker", "host", "containerd"),
		matrix.FromMap("distro", map[string]any{"debian-12": 12, "debian-11": 11}),
	)
	sel, _ := matrix.ParseSelector("worker=host|containerd,distro=*-12")
	for _, c := range cells {
		fmt.Println(c.Name(), sel.Match(c))
	}
	// Output:
	// worker=host/distro=debian-11 false
	// worker=host/distro=debian-12 true
	// worker=containerd/distro=debian-11 false
	// worker=containerd/distro=debian-12 true
}

// Four cases dealt round three shards: each shard takes one or two.
func ExampleAssign() {
	shard, _ := matrix.ParseShard("2/3")
	keys := []string{"TestA/worker=host", "TestB/worker=host", "TestC/worker=host", "TestD/worker=host"}
	fmt.Println(shard, matrix.Assign("TestSuite", keys, shard.Count))
	// Output: 2/3 [1 1 3 2]
}
