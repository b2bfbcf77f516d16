package image

import (
	"fmt"
	"strings"

	"github.com/distribution/reference"
	spb "github.com/moby/buildkit/sourcepolicy/pb"
	"github.com/opencontainers/go-digest"
)

// BuildKit's source attributes naming the OCI store of an oci-layout
// source (solver/pb AttrOCILayoutStoreID and AttrOCILayoutSessionID).
const (
	attrOCIStore   = "oci.store"
	attrOCISession = "oci.session"
)

// SourcePolicy converts every docker-image source of base (any tag or
// digest of it: "busybox" matches docker.io/library/busybox:latest and
// docker.io/library/busybox@sha256:…, not busybox-extra) into the image
// d of the OCI store, for SolveOpt.SourcePolicy. Pair it with
// [Layout.OCIStores] under the same store name. sessionID may be empty
// (BuildKit then asks any session of the build).
func SourcePolicy(base, store string, d digest.Digest, sessionID string) (*spb.Policy, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("source policy: digest %q: %w", d, err)
	}
	named, err := reference.ParseNormalizedNamed(base)
	if err != nil {
		return nil, fmt.Errorf("source policy: base %q: %w", base, err)
	}
	attrs := map[string]string{attrOCIStore: StoreID(store)}
	if sessionID != "" {
		attrs[attrOCISession] = sessionID
	}
	update := &spb.Update{Identifier: OCILayoutRef(store, d), Attrs: attrs}
	var selectors []*spb.Selector
	if named.String() != named.Name() {
		// A tag or digest was named: convert exactly that.
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
	return p, nil
}

// escapeWildcard keeps a name's characters literal in a wildcard selector
// (reference names hold no * or ?, but be safe).
func escapeWildcard(s string) string {
	return strings.NewReplacer("*", `\*`, "?", `\?`).Replace(s)
}
