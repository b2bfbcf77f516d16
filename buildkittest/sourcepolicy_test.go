package buildkittest_test

import (
	"context"
	"strings"
	"testing"

	reference "github.com/containerd/containerd/v2/pkg/reference"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/sourcepolicy"
	spb "github.com/moby/buildkit/sourcepolicy/pb"
	"github.com/opencontainers/go-digest"

	"github.com/matrixbox/matrixbox/buildkittest"
)

// TestSourcePolicy runs the policy through BuildKit's own policy engine and
// parses the result the way BuildKit's oci-layout source does.
func TestSourcePolicy(t *testing.T) {
	d := "sha256:" + strings.Repeat("c", 64)
	pol, err := buildkittest.SourcePolicy("busybox", "Marker", digest.Digest(d), "")
	if err != nil {
		t.Fatal(err)
	}
	e := sourcepolicy.NewEngine([]*spb.Policy{pol})
	for src, wantConvert := range map[string]bool{
		"docker-image://docker.io/library/busybox:latest":  true,
		"docker-image://docker.io/library/busybox:1.36":    true,
		"docker-image://docker.io/library/busybox@" + d:    true,
		"docker-image://docker.io/library/busybox-extra:1": false,
		"docker-image://docker.io/other/busybox:latest":    false,
		// What a Dockerfile frontend builds FROM after resolving busybox
		// through the policy: the converted ref without its scheme.
		"docker-image://localhost/marker@" + d:   true,
		"docker-image://localhost/markers@" + d:  false,
		"docker-image://example.com/marker@" + d: false,
	} {
		op := &pb.SourceOp{Identifier: src}
		mutated, err := e.Evaluate(context.Background(), op)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if mutated != wantConvert {
			t.Errorf("%s: converted=%v, want %v", src, mutated, wantConvert)
			continue
		}
		if !mutated {
			continue
		}
		if op.Identifier != "oci-layout://localhost/marker@"+d || op.Attrs[pb.AttrOCILayoutStoreID] != "marker" {
			t.Errorf("%s became %q %v", src, op.Identifier, op.Attrs)
		}
		// BuildKit's OCI identifier: containerd's reference parser must
		// find the digest (it does not for a bare "marker@sha256:…").
		spec, err := reference.Parse(strings.TrimPrefix(op.Identifier, "oci-layout://"))
		if err != nil || spec.Digest().String() != d {
			t.Errorf("%s: parsed as %+v (%v), lost the digest", op.Identifier, spec, err)
		}
	}
	if bare, _ := reference.Parse("marker@" + d); bare.Digest() != "" {
		t.Log("containerd now parses a bare store@digest; the localhost/ prefix could go")
	}
	if _, err := buildkittest.SourcePolicy("Bad Name", "s", digest.Digest(d), ""); err == nil {
		t.Error("SourcePolicy with an invalid base passed")
	}
	if _, err := buildkittest.SourcePolicy("busybox", "s", "sha256:zz", ""); err == nil {
		t.Error("SourcePolicy with an invalid digest passed")
	}
	pinned, err := buildkittest.SourcePolicy("busybox:1.36", "s", digest.Digest(d), "sess")
	if err != nil || len(pinned.Rules) != 2 || pinned.Rules[0].Selector.MatchType != spb.MatchType_EXACT ||
		pinned.Rules[0].Updates.Attrs[pb.AttrOCILayoutSessionID] != "sess" {
		t.Errorf("buildkittest.SourcePolicy(busybox:1.36) = %v, %v", pinned, err)
	}
}
