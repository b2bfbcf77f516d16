package integration_test

import (
	"fmt"
	"testing"

	"github.com/matrixbox/matrixbox/compat/buildkit/integration"
)

func testBuildSomething(t *testing.T, sb integration.Sandbox) {}

// Tests are named as BuildKit's harness names them, so subtest names and
// -run filters carry over.
func ExampleTestFuncs() {
	for _, tc := range integration.TestFuncs(testBuildSomething) {
		fmt.Println(tc.Name())
	}
	// Output: TestBuildSomething
}

// Official images come through matrixbox's mirror; busybox from its
// offline recipe.
func ExampleOfficialImages() {
	fmt.Println(integration.OfficialImages("busybox:latest")["library/busybox:latest"])
	// Output: recipe:busybox
}
