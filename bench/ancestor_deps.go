//go:build benchdeps

// This file is never built. It names the ancestor's packages that the bench
// fixture bench/testdata/solves/ancestor imports, so that go mod tidy (which
// reads every build tag but skips testdata) keeps their requirements.

package bench

import (
	_ "github.com/moby/buildkit/util/testutil/integration"
	_ "github.com/moby/buildkit/util/testutil/workers"
)
