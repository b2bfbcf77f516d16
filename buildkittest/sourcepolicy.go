package buildkittest

import (
	"fmt"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/solver/pb"
	spb "github.com/moby/buildkit/sourcepolicy/pb"
	"github.com/opencontainers/go-digest"

	"github.com/matrixbox/matrixbox/ociimage"
)

// SourcePolicy converts every docker-image source of base (any tag or
// digest of it: "busybox" matches docker.io/library/busybox:latest and
// docker.io/library/busybox@sha256:…, not busybox-extra; a base with a tag
// or digest matches exactly that) into the image d of the OCI store, for
// [WithSourcePolicy] or SolveOpt.SourcePolicy. Pair it with the store
// under the same name ([WithOCIStore], ociimage.Layout's OCIStores).
// sessionID may be empty (BuildKit then asks any session of the build).
//
// The policy has one more rule, for the frontends: a Dockerfile frontend
// resolves "FROM busybox" through the policy, but gets the converted
// image back as a plain name, "localhost/<store>@<digest>" (BuildKit's
// gateway strips the oci-layout:// scheme and drops the store
// attributes), and builds FROM that as a registry image at localhost. So
// docker-image://localhost/<store>@<any digest> converts to the same
// digest of the OCI store. Without it the Dockerfile route works only
// when an earlier build left the store's blobs in the daemon's content
// store, and fails on a fresh daemon with "dial tcp 127.0.0.1:80".
func SourcePolicy(base, store string, d digest.Digest, sessionID string) (*spb.Policy, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("source policy: digest %q: %w", d, err)
	}
	named, err := reference.ParseNormalizedNamed(base)
	if err != nil {
		return nil, fmt.Errorf("source policy: base %q: %w", base, err)
	}
	attrs := map[string]string{pb.AttrOCILayoutStoreID: ociimage.StoreID(store)}
	if sessionID != "" {
		attrs[pb.AttrOCILayoutSessionID] = sessionID
	}
	update := &spb.Update{Identifier: ociimage.OCILayoutRef(store, d), Attrs: attrs}
	var selectors []*spb.Selector
	if named.String() != named.Name() {
		selectors = []*spb.Selector{{Identifier: "docker-image://" + named.String(), MatchType: spb.MatchType_EXACT}}
	} else {
		for _, sep := range []string{":", "@"} {
			selectors = append(selectors, &spb.Selector{
				Identifier: "docker-image://" + escapeWildcard(named.Name()) + sep + "*",
				MatchType:  spb.MatchType_WILDCARD,
			})
		}
	}
	p := &spb.Policy{Version: 1}
	for _, s := range selectors {
		p.Rules = append(p.Rules, &spb.Rule{Action: spb.PolicyAction_CONVERT, Selector: s, Updates: update})
	}
	p.Rules = append(p.Rules, &spb.Rule{
		Action:   spb.PolicyAction_CONVERT,
		Selector: &spb.Selector{Identifier: "docker-image://" + roundTrip(store) + "*", MatchType: spb.MatchType_WILDCARD},
		Updates:  &spb.Update{Identifier: "oci-layout://" + roundTrip(store) + "${1}", Attrs: attrs},
	})
	return p, nil
}

// roundTrip is the name, up to the digest, under which a frontend gets
// back an image that the policy converted to the OCI store store:
// ociimage.OCILayoutRef without its scheme.
func roundTrip(store string) string {
	return "localhost/" + ociimage.StoreID(store) + "@"
}

// escapeWildcard keeps a name's characters literal in a wildcard selector
// (reference names hold no * or ?, but be safe).
func escapeWildcard(s string) string {
	return strings.NewReplacer("*", `\*`, "?", `\?`).Replace(s)
}
