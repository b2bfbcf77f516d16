package platform_test

import (
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/matrixbox/matrixbox/buildkittest"
	"github.com/matrixbox/matrixbox/ociimage"
)

// The two routes by which a solve takes the marker index instead of the
// registry's busybox: a named context, and a source policy.
// buildkittest.NewMarkerStore makes both in one call; these are what it
// hands to BuildKit.
func Example() {
	d := digest.FromString("the marker index")
	k, v := ociimage.NamedContext("base", "marker", d)
	fmt.Println(k, "=", v[:len("oci-layout://marker@sha256:")]+"…")
	pol, err := buildkittest.SourcePolicy("busybox", "marker", d, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range pol.Rules {
		fmt.Println(r.Action, r.Selector.Identifier, "->", strings.Replace(r.Updates.Identifier, d.String(), "sha256:…", 1))
	}
	// Output:
	// context:base = oci-layout://marker@sha256:…
	// CONVERT docker-image://docker.io/library/busybox:* -> oci-layout://localhost/marker@sha256:…
	// CONVERT docker-image://docker.io/library/busybox@* -> oci-layout://localhost/marker@sha256:…
	// CONVERT docker-image://localhost/marker@* -> oci-layout://localhost/marker@${1}
}
