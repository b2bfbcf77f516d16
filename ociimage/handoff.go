package ociimage

import (
	"strings"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/opencontainers/go-digest"
)

// StoreID turns name into a BuildKit OCI store id that every BuildKit
// parser reads back as the same single name: lowercase letters, digits and
// single dashes, no dots or colons (a dot or colon makes the name look like
// a registry host, "name:5000" like a host and port). An empty result
// becomes "matrixbox".
func StoreID(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	if b.Len() == 0 {
		return "matrixbox"
	}
	return b.String()
}

// OCIStores is the SolveOpt.OCIStores entry that makes the layout known to
// BuildKit under StoreID(store).
func (l *Layout) OCIStores(store string) map[string]content.Store {
	return map[string]content.Store{StoreID(store): l.Store()}
}

// NamedContext is the frontend attribute that replaces the named context
// name (a Dockerfile's FROM name, or a frontend's own context) with the
// index or manifest of digest d in the OCI store: key "context:<name>",
// value "oci-layout://<store>@<digest>".
func NamedContext(name, store string, d digest.Digest) (key, value string) {
	return "context:" + name, "oci-layout://" + StoreID(store) + "@" + d.String()
}

// OCILayoutRef is the oci-layout identifier a source policy converts to:
// "oci-layout://localhost/<store>@<digest>". BuildKit parses this one with
// containerd's reference parser, which reads a bare "<store>@<digest>" as
// user "<store>" at host "sha256" port "<hex>" and loses the digest; the
// localhost/ prefix keeps it a path. The store itself travels in the
// oci.store attribute.
func OCILayoutRef(store string, d digest.Digest) string {
	return "oci-layout://localhost/" + StoreID(store) + "@" + d.String()
}
