package integration

import (
	"fmt"
	"os"
	"testing"

	"github.com/matrixbox/matrixbox/matrix"
)

// MainOption configures [Main]: what holds for every Run of the test
// process. It is a type of its own so that an option of a Run given to
// Main, or one of Main given to a Run, does not compile.
type MainOption func(*mainConfig)

type mainConfig struct {
	decoders []axisDecoder
}

type axisDecoder struct {
	axis   string
	decode func(string) (matrix.Value, error)
}

// WithAxisDecoder makes the config files of every Run of the process
// decode the values of axis with decode, so that matrixbox.yaml can name
// typed values (a platform, a distro) by a string. Values of an axis with
// no decoder are plain strings.
func WithAxisDecoder(axis string, decode func(string) (matrix.Value, error)) MainOption {
	return func(c *mainConfig) { c.decoders = append(c.decoders, axisDecoder{axis, decode}) }
}

// Main runs the tests of m, then stops the warm backends the process kept
// for its Runs and reports what went wrong stopping them; it returns the
// exit code for os.Exit. Without it, the test process's guard removes them
// when the process ends, and what a stop would have said is not heard.
// A suite's whole TestMain is one line:
//
//	func TestMain(m *testing.M) {
//		os.Exit(integration.Main(m, integration.WithAxisDecoder(distro.AxisName, distro.DecodeValue)))
//	}
func Main(m *testing.M, opts ...MainOption) int {
	applyMain(opts)
	code := m.Run()
	if err := warm.stopAll(); err != nil {
		fmt.Fprintf(os.Stderr, "matrixbox: stopping the warm backends: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// applyMain makes Main's options the process's.
func applyMain(opts []MainOption) {
	var c mainConfig
	for _, o := range opts {
		o(&c)
	}
	for _, d := range c.decoders {
		registerAxisDecoder(d.axis, d.decode)
	}
}
