package ociimage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	dref "github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// baseWithAttestation is a two-platform base index whose layout also holds
// a BuildKit-style attestation manifest (platform unknown/unknown).
func baseWithAttestation(t *testing.T) *Layout {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "base")
	var imgs []*Image
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		img, err := Build(Config{Platform: mustPlatform(t, p)}, mustLayer(t, map[string]File{"/bin/sh": {Data: []byte("sh for " + p), Mode: 0o755}}))
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	att, err := Build(Config{Platform: ocispec.Platform{OS: "unknown", Architecture: "unknown"}}, mustLayer(t, map[string]File{"/sbom.json": {Data: []byte("{}")}}))
	if err != nil {
		t.Fatal(err)
	}
	att.Descriptor.Annotations = map[string]string{AnnotationReferenceType: "attestation-manifest", "vnd.docker.reference.digest": imgs[0].Descriptor.Digest.String()}
	idx, err := Index(append(imgs, att)...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteLayout(dir, "base", idx); err != nil {
		t.Fatal(err)
	}
	return openLayout(t, dir)
}

func TestMarkerIndex(t *testing.T) {
	base, err := baseWithAttestation(t).FindIndex("base")
	if err != nil {
		t.Fatal(err)
	}
	if len(base.Images) != 3 {
		t.Fatalf("base has %d images, want 3 with the attestation", len(base.Images))
	}
	marker, err := MarkerIndex(base, "linux/amd64", "linux/arm64")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "marker")
	desc, err := WriteLayout(dir, "marker", marker)
	if err != nil {
		t.Fatal(err)
	}
	// The index is a blob of the layout, addressable by digest alone.
	if _, err := os.Stat(blobFile(dir, desc.Digest.String())); err != nil {
		t.Fatalf("index blob: %v", err)
	}
	l := openLayout(t, dir)
	got, err := l.IndexImage(ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: desc.Digest, Size: desc.Size})
	if err != nil {
		t.Fatal(err)
	}
	Check(t, got, ManifestCount(2), Platforms("linux/amd64", "linux/arm64"),
		ForPlatform("linux/amd64", LayerCount(2), HasFile(MarkerPath, "linux/amd64"), HasFile("/bin/sh", "sh for linux/amd64")),
		ForPlatform("linux/arm64", LayerCount(2), HasFile(MarkerPath, "linux/arm64"), HasFile("/bin/sh", "sh for linux/arm64"), Platform("linux/arm64")))
	for _, m := range got.Index.Manifests {
		if m.Platform.OS == "unknown" || m.Annotations[AnnotationReferenceType] != "" {
			t.Errorf("attestation manifest kept: %+v", m)
		}
	}

	if _, err := MarkerIndex(base, "linux/s390x"); err == nil || !strings.Contains(err.Error(), "no image for linux/s390x") {
		t.Errorf("MarkerIndex for a platform the base lacks = %v", err)
	}
	// BuildKit's variant fallback: amd64 serves amd64/v3, and the manifest
	// is labelled and marked with the platform asked for.
	v3, err := MarkerIndex(base, "linux/amd64/v3", "linux/arm64")
	if err != nil {
		t.Fatal(err)
	}
	Check(t, v3, Platforms("linux/amd64/v3", "linux/arm64"),
		ForPlatform("linux/amd64/v3", HasFile(MarkerPath, "linux/amd64/v3"), HasFile("/bin/sh", "sh for linux/amd64")))
	if _, err := MarkerIndex(base, "linux/bogus"); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("MarkerIndex(linux/bogus) = %v", err)
	}
	// A single base image serves every platform.
	one, err := MarkerIndex(base.Images[0], "linux/amd64", "linux/arm64", "linux/arm/v7")
	if err != nil {
		t.Fatal(err)
	}
	Check(t, one, Platforms("linux/amd64", "linux/arm64", "linux/arm/v7"), ForPlatform("linux/arm/v7", HasFile(MarkerPath, "linux/arm/v7")))
}

func TestStoreID(t *testing.T) {
	for in, want := range map[string]string{
		"marker": "marker", "My.Store:5000": "my-store-5000", "..": "matrixbox", "a__b": "a-b", "-x-": "x",
	} {
		got := StoreID(in)
		if got != want {
			t.Errorf("StoreID(%q) = %q, want %q", in, got, want)
		}
		// BuildKit's named-context parser must read the id back unchanged.
		_, v := NamedContext("base", in, digest.Digest("sha256:"+strings.Repeat("a", 64)))
		r, err := dref.Parse(strings.TrimPrefix(v, "oci-layout://"))
		if err != nil || r.(dref.Named).Name() != got {
			t.Errorf("NamedContext value %q parses to %v, %v; want name %q", v, r, err, got)
		}
	}
}

func TestNamedContext(t *testing.T) {
	k, v := NamedContext("busybox", "Marker Store", digest.Digest("sha256:"+strings.Repeat("b", 64)))
	if k != "context:busybox" || v != "oci-layout://marker-store@sha256:"+strings.Repeat("b", 64) {
		t.Errorf("NamedContext = %q, %q", k, v)
	}
}
