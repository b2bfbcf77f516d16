package mirror_test

import (
	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/mirror"
)

// The mirror is what integration.Run needs, without either package
// importing the other outside tests.
var _ integration.Mirror = (*mirror.Mirror)(nil)

// Run names the damaged blobs the mirror refused in a failing case's log.
var _ integration.DamageReporter = (*mirror.Mirror)(nil)
