package mirror

import (
	"context"
	"fmt"
	"strings"

	"github.com/containerd/containerd/v2/core/content"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// A source is where an image comes from: the value side of Ensure's map.
type source interface {
	String() string
	// fingerprint is a cheap identity of what resolve would give now, so a
	// changed local source is copied again; "" when the source string
	// alone identifies the content (remote refs are pinned on first copy).
	fingerprint(ctx context.Context) (string, error)
	resolve(ctx context.Context, m *Mirror) (resolved, error)
}

// resolved is a source made concrete: a root descriptor (manifest or index)
// and where its blobs are.
type resolved struct {
	desc     ocispec.Descriptor
	provider content.Provider
	pinned   string       // for remote sources: name@digest actually copied
	close    func() error // may be nil
}

// Source schemes understood by Ensure. A value with none of these prefixes
// is a remote reference ("docker.io/library/busybox:latest",
// "127.0.0.1:5000/x@sha256:...").
const (
	SchemeOCILayout     = "oci-layout:"     // oci-layout:DIR-OR-TAR[@REF]
	SchemeDockerArchive = "docker-archive:" // docker-archive:TAR
	SchemeRootfs        = "rootfs:"         // rootfs:DIR
	SchemeBinary        = "binary:"         // binary:PATH (static binary as entrypoint)
	SchemeRecipe        = "recipe:"         // recipe:busybox[?libc=musl], recipe:alpine, recipe:debian:12[?packages=a,b]
)

// parseSource reads a source string; an empty one means the target itself,
// pulled through from its registry.
func parseSource(targetName, s string) (source, error) {
	if s == "" {
		s = targetName
	}
	switch {
	case strings.HasPrefix(s, SchemeOCILayout):
		return parseLayoutSource(s)
	case strings.HasPrefix(s, SchemeDockerArchive):
		return parseArchiveSource(s)
	case strings.HasPrefix(s, SchemeRootfs):
		return parseRootfsSource(s)
	case strings.HasPrefix(s, SchemeBinary):
		return parseBinarySource(s)
	case strings.HasPrefix(s, SchemeRecipe):
		return parseRecipe(s)
	}
	if i := strings.Index(s, ":"); i > 0 && !strings.ContainsAny(s[:i], "./") && !looksLikePort(s[i+1:]) {
		return nil, fmt.Errorf("source %q: unknown scheme %q (want a registry reference or one of %s, %s, %s, %s, %s)",
			s, s[:i+1], SchemeOCILayout, SchemeDockerArchive, SchemeRootfs, SchemeBinary, SchemeRecipe)
	}
	return remoteSource{ref: s}, nil
}

// looksLikePort tells "localhost:5000/x" (a registry) from "foo:bar" (an
// unknown scheme); a bare "busybox:1.36" is a tag and also allowed.
func looksLikePort(rest string) bool {
	return rest != "" && (rest[0] >= '0' && rest[0] <= '9' || !strings.Contains(rest, "/"))
}
