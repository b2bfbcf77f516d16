package doccheck_test

import (
	"fmt"
	"strings"

	"github.com/matrixbox/matrixbox/internal/doccheck"
)

// Check lists every dangling reference at once. The fixture's README names
// a function, a guide, an anchor and two paths that do not exist.
func ExampleCheck() {
	findings, err := doccheck.Check("testdata/planted")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range findings {
		if strings.HasPrefix(f.File, "README.md") && f.Line < 10 {
			fmt.Println(f)
		}
	}
	// Output:
	// README.md:3: widget.Build: package widget (example.com/planted/widget) has no Build
	// README.md:4: [the guide](docs/guide.md): no such file or directory docs/guide.md
	// README.md:5: [nowhere](#nowhere): README.md has no heading with anchor #nowhere
	// README.md:6: examples/ci/: no such file or directory in the repository root
	// README.md:7: scripts/install.sh: no such file or directory in the repository root
}
