package repoconfig_test

import (
	"fmt"

	"github.com/matrixbox/matrixbox/internal/repoconfig"
)

func ExampleParse() {
	fc, err := repoconfig.Parse("matrixbox.yaml", []byte("axes:\n  cpus: [1, 4]\nshards: 3\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	// Values stay as written: a Run that declares the axis decodes them.
	fmt.Println(fc.Axes[0].Name, fc.Axes[0].Values, fc.Shards)
	fmt.Println(fc.Axes[0].Where(1))
	// Output:
	// cpus [1 4] 3
	// matrixbox.yaml:2: axes.cpus
}
