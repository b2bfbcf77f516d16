package workers

import (
	"os"
	"testing"

	"github.com/matrixbox/matrixbox/integration"
)

// TestMain stops the warm backends of the tests that use them.
func TestMain(m *testing.M) { os.Exit(integration.Main(m)) }
