package ociimage

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/matrixbox/matrixbox/matrix/platform"
)

// MarkerPath is the file each manifest of a [MarkerIndex] carries, holding
// its platform string ("linux/arm64").
const MarkerPath = "/platform-marker"

// MarkerIndex builds the index of the platform-selection scenario: for each
// platform, the base image for that platform plus one layer holding
// [MarkerPath]. base is an *Image (used for every platform: its content
// is never run, only inspected) or an *IndexImage (the image of each
// platform is taken from it, attestation manifests left out: that
// platform's own, else the nearest older variant of its architecture, as
// BuildKit falls back, so linux/amd64 serves linux/amd64/v3; a platform
// nothing serves is an error; [Index] makes one of images). Each manifest is labelled with the
// platform asked for, so that a build for linux/amd64/v3 finds its own. Store the result with [WriteLayout]: the
// index becomes a blob of the layout addressable by its digest.
func MarkerIndex(base Artifact, platforms ...string) (*IndexImage, error) {
	if len(platforms) == 0 {
		return nil, errors.New("marker index: no platform given")
	}
	var pick func(ocispec.Platform) (*Image, error)
	switch b := base.(type) {
	case nil:
		return nil, errors.New("marker index: no base given")
	case *Image:
		if b == nil {
			return nil, errors.New("marker index: nil base image")
		}
		pick = func(ocispec.Platform) (*Image, error) { return b, nil }
	case *IndexImage:
		if b == nil {
			return nil, errors.New("marker index: nil base index")
		}
		pick = func(p ocispec.Platform) (*Image, error) { return pickPlatform(b.Images, p) }
	}
	var imgs []*Image
	for _, s := range platforms {
		p, err := platform.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("marker index: %w", err)
		}
		img, err := pick(p)
		if err != nil {
			return nil, fmt.Errorf("marker index: %w", err)
		}
		m, err := withMarker(img, p)
		if err != nil {
			return nil, fmt.Errorf("marker index: %s: %w", platform.Format(p), err)
		}
		imgs = append(imgs, m)
	}
	return Index(imgs...)
}

func pickPlatform(imgs []*Image, p ocispec.Platform) (*Image, error) {
	var cands []*Image
	var have []ocispec.Platform
	var names []string
	for _, img := range imgs {
		if img == nil || img.Descriptor.Annotations[AnnotationReferenceType] == "attestation-manifest" ||
			img.Manifest.Annotations[AnnotationReferenceType] == "attestation-manifest" {
			continue
		}
		cands = append(cands, img)
		have = append(have, img.Config.Platform)
		names = append(names, platform.Format(img.Config.Platform))
	}
	if i := platform.Best(p, have); i >= 0 {
		return cands[i], nil
	}
	return nil, fmt.Errorf("base has no image for %s (has %v)", platform.Format(p), names)
}

// withMarker is img for platform p with the marker layer on top.
func withMarker(img *Image, p ocispec.Platform) (*Image, error) {
	marker, err := LayerFromFiles(map[string]File{MarkerPath: {Data: []byte(platform.Format(p)), Mode: 0o644}})
	if err != nil {
		return nil, err
	}
	conf := img.Config
	conf.Platform = p
	conf.Config.Labels = maps.Clone(conf.Config.Labels)
	conf.RootFS.DiffIDs = append(slices.Clone(conf.RootFS.DiffIDs), marker.DiffID)
	conf.History = append(slices.Clone(conf.History), ocispec.History{Created: &epoch, CreatedBy: "matrixbox ociimage.MarkerIndex: " + MarkerPath})
	conf.RootFS.DiffIDs = slices.DeleteFunc(conf.RootFS.DiffIDs, func(d digest.Digest) bool { return d == "" })
	layers := append(img.Layers(), marker)
	if len(conf.RootFS.DiffIDs) != len(layers) {
		return nil, fmt.Errorf("base %s: config lists %d diff_ids for %d layers", img.Descriptor.Digest, len(conf.RootFS.DiffIDs)-1, len(layers)-1)
	}
	return assemble(conf, img.Manifest.Annotations, layers)
}
