package platform_test

import (
	"fmt"

	"github.com/matrixbox/matrixbox/matrix/platform"
)

func ExampleAxis() {
	axis, err := platform.Axis("linux/amd64", "linux/arm64", "linux/amd64/v3")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range axis.Values {
		fmt.Println(axis.Name+"="+v.Name, platform.Format(v.V.(platform.Platform)))
	}
	_, err = platform.Axis("linux/arm64", "linux/amd64/v5")
	fmt.Println(err)
	// Output:
	// platform=linux-amd64 linux/amd64
	// platform=linux-arm64 linux/arm64
	// platform=linux-amd64-v3 linux/amd64/v3
	// platform axis: platform "linux/amd64/v5": unknown variant "v5" of amd64 (known: v1, v2, v3, v4)
}
