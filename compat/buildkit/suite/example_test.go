package suite_test

import (
	"fmt"

	"github.com/matrixbox/matrixbox/compat/buildkit/suite"
)

// A suite moves to matrixbox by its two harness imports and nothing else.
func ExampleRewrite() {
	src := []byte(`import (
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/testutil/integration"
	"github.com/moby/buildkit/util/testutil/workers"
)`)
	fmt.Println(string(suite.Rewrite(src)))
	// Output:
	// import (
	// 	"github.com/moby/buildkit/client"
	// 	"github.com/matrixbox/matrixbox/compat/buildkit/integration"
	// 	"github.com/matrixbox/matrixbox/compat/buildkit/workers"
	// )
}

// Both harnesses select the same cases with one -run pattern.
func ExamplePattern() {
	fmt.Println(suite.Pattern("TestCopy|TestRun", "oci"))
	// Output: /^(TestCopy|TestRun)$/^worker=oci$
}
