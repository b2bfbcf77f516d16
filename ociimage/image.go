package ociimage

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/matrixbox/matrixbox/matrix/platform"
)

// Config is what [Build] puts in an image's config and manifest.
type Config struct {
	Platform   ocispec.Platform
	Entrypoint []string
	Cmd        []string
	Env        []string
	WorkingDir string
	User       string
	Labels     map[string]string
	// Annotations go on the manifest (and on its descriptor in an index).
	Annotations map[string]string
}

// Artifact is what [Check], [Verify], [WriteLayout] and [MarkerIndex]
// take: an *[Image] or an *[IndexImage]. Only those two have it, so the
// compiler refuses anything else.
type Artifact interface {
	// artifact returns the descriptor and, for writing, every blob.
	artifact() (ocispec.Descriptor, []blob)
	// isNil says the pointer is nil.
	isNil() bool
}

func (img *Image) artifact() (ocispec.Descriptor, []blob) { return img.Descriptor, img.blobs() }
func (img *Image) isNil() bool                            { return img == nil }
func (x *IndexImage) artifact() (ocispec.Descriptor, []blob) {
	return x.Descriptor, x.blobs()
}
func (x *IndexImage) isNil() bool { return x == nil }

// Image is one image manifest with its config and layers, built by [Build]
// or read from a [Layout].
type Image struct {
	// Descriptor of the manifest; Platform is set from the config.
	Descriptor ocispec.Descriptor
	Manifest   ocispec.Manifest
	Config     ocispec.Image

	layers      []Layer
	rawManifest []byte
	rawConfig   []byte
	merged      merged
}

// Layers in order, base first.
func (i *Image) Layers() []Layer { return slices.Clone(i.layers) }

// RawManifest is the manifest exactly as stored (its digest is Descriptor.Digest).
func (i *Image) RawManifest() []byte { return slices.Clone(i.rawManifest) }

// RawConfig is the config exactly as stored.
func (i *Image) RawConfig() []byte { return slices.Clone(i.rawConfig) }

// Platform of the image, from its config.
func (i *Image) Platform() ocispec.Platform { return i.Config.Platform }

// IndexImage is an image index and the images it lists, built by [Index] or
// read from a [Layout].
type IndexImage struct {
	Descriptor ocispec.Descriptor
	Index      ocispec.Index
	// Images holds the image manifests of the index in index order, attestation
	// manifests included; nested indexes are not expanded.
	Images []*Image

	raw []byte
}

// RawIndex is the index exactly as stored.
func (x *IndexImage) RawIndex() []byte { return slices.Clone(x.raw) }

// Build makes an image of the layers, base first. The config's Platform
// needs at least OS and Architecture.
func Build(cfg Config, layers ...Layer) (*Image, error) {
	if cfg.Platform.OS == "" || cfg.Platform.Architecture == "" {
		return nil, errors.New("build image: config platform needs OS and Architecture")
	}
	p, err := platform.Normalize(cfg.Platform)
	if err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}
	conf := ocispec.Image{
		Platform: p,
		Config: ocispec.ImageConfig{
			Entrypoint: cfg.Entrypoint, Cmd: cfg.Cmd, Env: cfg.Env,
			WorkingDir: cfg.WorkingDir, User: cfg.User, Labels: maps.Clone(cfg.Labels),
		},
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{}},
	}
	for n, l := range layers {
		if l.Digest == "" || l.DiffID == "" {
			return nil, fmt.Errorf("build image: layer %d has no digest or diffID", n)
		}
		conf.RootFS.DiffIDs = append(conf.RootFS.DiffIDs, l.DiffID)
		conf.History = append(conf.History, ocispec.History{Created: &epoch, CreatedBy: "matrixbox ociimage.Build"})
	}
	// An ENTRYPOINT and a CMD are history entries of their own, with no
	// layer, as in an image a Dockerfile built (Docker Hub's busybox has
	// two: its layer and CMD ["sh"]); tests count them.
	for _, instr := range []struct {
		name string
		args []string
	}{{"ENTRYPOINT", cfg.Entrypoint}, {"CMD", cfg.Cmd}} {
		if instr.args != nil {
			args, err := json.Marshal(instr.args)
			if err != nil {
				return nil, fmt.Errorf("build image: %s: %w", instr.name, err)
			}
			conf.History = append(conf.History, ocispec.History{Created: &epoch, CreatedBy: instr.name + " " + string(args), EmptyLayer: true})
		}
	}
	conf.Created = &epoch
	return assemble(conf, cfg.Annotations, layers)
}

// assemble serialises config and manifest for the layers.
func assemble(conf ocispec.Image, annotations map[string]string, layers []Layer) (*Image, error) {
	rawConfig, err := json.Marshal(conf)
	if err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config: ocispec.Descriptor{
			MediaType: ocispec.MediaTypeImageConfig,
			Digest:    digest.FromBytes(rawConfig),
			Size:      int64(len(rawConfig)),
		},
		Layers:      []ocispec.Descriptor{},
		Annotations: maps.Clone(annotations),
	}
	for _, l := range layers {
		m.Layers = append(m.Layers, l.Descriptor())
	}
	rawManifest, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	p := conf.Platform
	return &Image{
		Descriptor: ocispec.Descriptor{
			MediaType: ocispec.MediaTypeImageManifest,
			Digest:    digest.FromBytes(rawManifest),
			Size:      int64(len(rawManifest)),
			Platform:  &p,
		},
		Manifest: m, Config: conf,
		layers: slices.Clone(layers), rawManifest: rawManifest, rawConfig: rawConfig,
	}, nil
}

// Index makes a multi-platform index of images, each listed with its
// platform. Two images of the same platform are an error.
func Index(imgs ...*Image) (*IndexImage, error) {
	return indexWith(nil, imgs...)
}

func indexWith(annotations map[string]string, imgs ...*Image) (*IndexImage, error) {
	if len(imgs) == 0 {
		return nil, errors.New("build index: no image given")
	}
	idx := ocispec.Index{
		Versioned:   specs.Versioned{SchemaVersion: 2},
		MediaType:   ocispec.MediaTypeImageIndex,
		Manifests:   []ocispec.Descriptor{},
		Annotations: maps.Clone(annotations),
	}
	seen := map[string]bool{}
	for _, img := range imgs {
		if img == nil {
			return nil, errors.New("build index: nil image")
		}
		d := img.Descriptor
		if d.Platform == nil {
			p := img.Config.Platform
			d.Platform = &p
		}
		key := platform.Format(*d.Platform)
		if seen[key] {
			return nil, fmt.Errorf("build index: two images for platform %s", key)
		}
		seen[key] = true
		idx.Manifests = append(idx.Manifests, d)
	}
	raw, err := json.Marshal(idx)
	if err != nil {
		return nil, fmt.Errorf("encode index: %w", err)
	}
	return &IndexImage{
		Descriptor: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: digest.FromBytes(raw), Size: int64(len(raw))},
		Index:      idx, Images: slices.Clone(imgs), raw: raw,
	}, nil
}
