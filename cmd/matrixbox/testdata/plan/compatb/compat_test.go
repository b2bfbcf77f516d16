// Package compatb runs the compat-layer suite of package compatsuite, as
// package compata does: the records must name each package apart. It
// lives under testdata so go test ./... does not run it on its own.
package compatb

import (
	"testing"

	"github.com/matrixbox/matrixbox/cmd/matrixbox/testdata/plan/compatsuite"
)

func TestIntegration(t *testing.T) { compatsuite.Run(t) }
