package ociimage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/matrixbox/matrixbox/matrix/platform"
)

// Docker's media types, read as their OCI counterparts.
const (
	mediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaTypeDockerConfig       = "application/vnd.docker.container.image.v1+json"
	mediaTypeDockerLayerGzip    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	mediaTypeDockerLayer        = "application/vnd.docker.image.rootfs.diff.tar"

	// AnnotationReferenceType marks BuildKit's attestation manifests
	// (value "attestation-manifest").
	AnnotationReferenceType = "vnd.docker.reference.type"
	// annotationContainerdName is the ref name containerd and docker save use.
	annotationContainerdName = "io.containerd.image.name"
)

// Layout is an OCI image layout opened for reading: a directory, an OCI
// layout tar, or a docker-archive tar (docker save) shown as a layout.
// Every blob read through it is checked against its digest.
type Layout struct {
	path  string
	index ocispec.Index
	src   blobSource
}

// OpenLayout opens a layout directory, an OCI layout tar (plain or
// compressed) or a docker-archive tar. Close it when done.
func OpenLayout(path string) (*Layout, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open layout: %w", err)
	}
	if st.IsDir() {
		return openDir(path)
	}
	ts, err := openTar(path)
	if err != nil {
		return nil, fmt.Errorf("open layout: %w", err)
	}
	l, err := openTarLayout(path, ts)
	if err != nil {
		ts.close()
		return nil, fmt.Errorf("open layout %s: %w", path, err)
	}
	return l, nil
}

func openDir(dir string) (*Layout, error) {
	raw, err := os.ReadFile(filepath.Join(dir, ocispec.ImageLayoutFile))
	if err != nil {
		return nil, fmt.Errorf("open layout %s: not an OCI layout: %w", dir, err)
	}
	if err := checkMarker(raw); err != nil {
		return nil, fmt.Errorf("open layout %s: %w", dir, err)
	}
	raw, err = os.ReadFile(filepath.Join(dir, ocispec.ImageIndexFile))
	if err != nil {
		return nil, fmt.Errorf("open layout %s: %w", dir, err)
	}
	l := &Layout{path: dir, src: dirSource{dir}}
	if err := json.Unmarshal(raw, &l.index); err != nil {
		return nil, fmt.Errorf("open layout %s: index.json: %w", dir, err)
	}
	return l, nil
}

func checkMarker(raw []byte) error {
	var m ocispec.ImageLayout
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("oci-layout: %w", err)
	}
	if !strings.HasPrefix(m.Version, "1.") {
		return fmt.Errorf("oci-layout: unsupported imageLayoutVersion %q", m.Version)
	}
	return nil
}

func openTarLayout(path string, ts *tarSource) (*Layout, error) {
	l := &Layout{path: path, src: ts}
	if raw, err := ts.readFile(ocispec.ImageLayoutFile); err == nil {
		if err := checkMarker(raw); err != nil {
			return nil, err
		}
		raw, err := ts.readFile(ocispec.ImageIndexFile)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(raw, &l.index); err != nil {
			return nil, fmt.Errorf("index.json: %w", err)
		}
		return l, nil
	}
	if raw, err := ts.readFile("manifest.json"); err == nil {
		idx, err := dockerArchive(ts, raw)
		if err != nil {
			return nil, fmt.Errorf("docker-archive: %w", err)
		}
		l.index = idx
		return l, nil
	}
	return nil, errors.New("neither an OCI layout (no oci-layout file) nor a docker-archive (no manifest.json)")
}

// Close releases the layout's open file, if any.
func (l *Layout) Close() error { return l.src.close() }

// Path is what OpenLayout was given.
func (l *Layout) Path() string { return l.path }

// Root is the layout's index.json (for a docker-archive, one synthesised
// from manifest.json).
func (l *Layout) Root() ocispec.Index { return l.index }

// Refs lists the ref names of index.json's entries, in order.
func (l *Layout) Refs() []string {
	var out []string
	for _, d := range l.index.Manifests {
		if r := refName(d); r != "" {
			out = append(out, r)
		}
	}
	return out
}

func refName(d ocispec.Descriptor) string {
	if r := d.Annotations[ocispec.AnnotationRefName]; r != "" {
		return r
	}
	return d.Annotations[annotationContainerdName]
}

// Blob reads a whole blob and checks its digest.
func (l *Layout) Blob(d digest.Digest) ([]byte, error) {
	rc, err := l.open(d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	return data, nil
}

// open returns a reader of the blob that fails at its end if the content
// does not have the digest.
func (l *Layout) open(d digest.Digest) (io.ReadCloser, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("layout %s: blob %q: %w", l.path, d, err)
	}
	ra, err := l.src.readerAt(d)
	if err != nil {
		return nil, fmt.Errorf("layout %s: %w", l.path, err)
	}
	return &verifier{r: io.NewSectionReader(ra, 0, ra.Size()), c: ra, want: d, v: d.Algorithm().Digester(), where: l.path}, nil
}

type verifier struct {
	r     io.Reader
	c     io.Closer
	want  digest.Digest
	v     digest.Digester
	where string
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.v.Hash().Write(p[:n])
	if err == io.EOF {
		if got := v.v.Digest(); got != v.want {
			return n, fmt.Errorf("layout %s: blob %s: content has digest %s (tampered or corrupt)", v.where, v.want, got)
		}
	}
	return n, err
}

func (v *verifier) Close() error { return v.c.Close() }

// Image loads the image manifest desc points to, with its config, checking
// both against their digests. Its layers read from the layout.
func (l *Layout) Image(desc ocispec.Descriptor) (*Image, error) {
	raw, err := l.Blob(desc.Digest)
	if err != nil {
		return nil, err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("layout %s: manifest %s: %w", l.path, desc.Digest, err)
	}
	if mt := firstNonEmpty(m.MediaType, desc.MediaType); mt != ocispec.MediaTypeImageManifest && mt != mediaTypeDockerManifest {
		return nil, fmt.Errorf("layout %s: %s is a %q, not an image manifest", l.path, desc.Digest, mt)
	}
	rawConfig, err := l.Blob(m.Config.Digest)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: config: %w", desc.Digest, err)
	}
	var conf ocispec.Image
	if err := json.Unmarshal(rawConfig, &conf); err != nil {
		return nil, fmt.Errorf("layout %s: config %s: %w", l.path, m.Config.Digest, err)
	}
	img := &Image{Descriptor: desc, Manifest: m, Config: conf, rawManifest: raw, rawConfig: rawConfig}
	if desc.MediaType == "" {
		img.Descriptor.MediaType = firstNonEmpty(m.MediaType, ocispec.MediaTypeImageManifest)
	}
	if desc.Platform == nil && conf.OS != "" {
		p := conf.Platform
		img.Descriptor.Platform = &p
	}
	for n, ld := range m.Layers {
		ld := ld
		layer := Layer{MediaType: ld.MediaType, Digest: ld.Digest, Size: ld.Size, Annotations: ld.Annotations,
			open: func() (io.ReadCloser, error) { return l.open(ld.Digest) }}
		if len(conf.RootFS.DiffIDs) == len(m.Layers) {
			layer.DiffID = conf.RootFS.DiffIDs[n]
		}
		img.layers = append(img.layers, layer)
	}
	return img, nil
}

// IndexImage loads the index desc points to and its image manifests.
func (l *Layout) IndexImage(desc ocispec.Descriptor) (*IndexImage, error) {
	raw, err := l.Blob(desc.Digest)
	if err != nil {
		return nil, err
	}
	var idx ocispec.Index
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fmt.Errorf("layout %s: index %s: %w", l.path, desc.Digest, err)
	}
	if mt := firstNonEmpty(idx.MediaType, desc.MediaType); !isIndex(mt) {
		return nil, fmt.Errorf("layout %s: %s is a %q, not an index", l.path, desc.Digest, mt)
	}
	x := &IndexImage{Descriptor: desc, Index: idx, raw: raw}
	for _, m := range idx.Manifests {
		if isIndex(m.MediaType) {
			continue
		}
		img, err := l.Image(m)
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", desc.Digest, err)
		}
		x.Images = append(x.Images, img)
	}
	return x, nil
}

// Artifact loads the one index or image the layout's root lists, such as
// the layout mirror.Shared().Recipe returns; a layout of several entries
// is an error naming them, so pick one with [Layout.Resolve] instead.
func (l *Layout) Artifact() (Artifact, error) {
	roots := l.index.Manifests
	if len(roots) != 1 {
		return nil, fmt.Errorf("layout %s has %d entries (%s), want one index or image: pick one with Resolve",
			l.path, len(roots), strings.Join(l.Refs(), ", "))
	}
	if isIndex(roots[0].MediaType) {
		return l.IndexImage(roots[0])
	}
	return l.Image(roots[0])
}

func isIndex(mt string) bool {
	return mt == ocispec.MediaTypeImageIndex || mt == mediaTypeDockerManifestList
}

func firstNonEmpty(xs ...string) string {
	for _, x := range xs {
		if x != "" {
			return x
		}
	}
	return ""
}

// FindOption narrows [Layout.Find].
type FindOption func(*findOpts)

type findOpts struct {
	ref      string
	platform string
}

// WithRef selects the index.json entries whose
// org.opencontainers.image.ref.name (or io.containerd.image.name) is ref.
func WithRef(ref string) FindOption { return func(o *findOpts) { o.ref = ref } }

// WithPlatform selects the manifest for a platform such as "linux/arm64",
// "linux/aarch64" or "linux/amd64/v3", read by matrix/platform's Parse. An
// older variant is taken when no exact one is there, as a machine of that
// variant would run it (platform.Rank).
func WithPlatform(p string) FindOption { return func(o *findOpts) { o.platform = p } }

// Resolve finds the descriptor of one image manifest: among index.json's
// entries (those named ref with [WithRef]), through nested indexes, the one
// for the platform ([WithPlatform]), attestation manifests left out.
// Without a platform there must be exactly one candidate.
func (l *Layout) Resolve(opts ...FindOption) (ocispec.Descriptor, error) {
	var o findOpts
	for _, f := range opts {
		f(&o)
	}
	var want ocispec.Platform
	if o.platform != "" {
		p, err := platform.Parse(o.platform)
		if err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("layout %s: %w", l.path, err)
		}
		want = p
	}
	roots := l.index.Manifests
	if o.ref != "" {
		roots = nil
		for _, d := range l.index.Manifests {
			if d.Annotations[ocispec.AnnotationRefName] == o.ref || d.Annotations[annotationContainerdName] == o.ref {
				roots = append(roots, d)
			}
		}
		if len(roots) == 0 {
			return ocispec.Descriptor{}, fmt.Errorf("layout %s: no entry named %q (names: %s)", l.path, o.ref, strings.Join(l.Refs(), ", "))
		}
	}
	var cands []ocispec.Descriptor
	for _, r := range roots {
		if err := l.manifests(r, 0, &cands); err != nil {
			return ocispec.Descriptor{}, err
		}
	}
	var names []string
	for _, c := range cands {
		names = append(names, platform.Format(*c.Platform))
	}
	if o.platform == "" {
		if len(cands) == 1 {
			return cands[0], nil
		}
		return ocispec.Descriptor{}, fmt.Errorf("layout %s: %d manifests (%s): name a platform", l.path, len(cands), strings.Join(names, ", "))
	}
	best, score := -1, 0
	for n, c := range cands {
		if s := platform.Rank(want, *c.Platform); s > score {
			best, score = n, s
		}
	}
	if best < 0 {
		return ocispec.Descriptor{}, fmt.Errorf("layout %s: no manifest for platform %s (has %s)", l.path, platform.Format(want), strings.Join(names, ", "))
	}
	return cands[best], nil
}

// manifests collects the image manifests under d with their platforms,
// leaving attestations out.
func (l *Layout) manifests(d ocispec.Descriptor, depth int, out *[]ocispec.Descriptor) error {
	if depth > 8 {
		return fmt.Errorf("layout %s: indexes nested too deep at %s", l.path, d.Digest)
	}
	if d.Annotations[AnnotationReferenceType] == "attestation-manifest" {
		return nil
	}
	if isIndex(d.MediaType) {
		raw, err := l.Blob(d.Digest)
		if err != nil {
			return err
		}
		var idx ocispec.Index
		if err := json.Unmarshal(raw, &idx); err != nil {
			return fmt.Errorf("layout %s: index %s: %w", l.path, d.Digest, err)
		}
		for _, c := range idx.Manifests {
			if err := l.manifests(c, depth+1, out); err != nil {
				return err
			}
		}
		return nil
	}
	if d.Platform == nil {
		img, err := l.Image(d)
		if err != nil {
			return err
		}
		d.Platform = img.Descriptor.Platform
		if d.Platform == nil {
			d.Platform = &ocispec.Platform{OS: "unknown", Architecture: "unknown"}
		}
	}
	*out = append(*out, d)
	return nil
}

// Find resolves one image manifest (see [Layout.Resolve]) and loads it.
func (l *Layout) Find(opts ...FindOption) (*Image, error) {
	d, err := l.Resolve(opts...)
	if err != nil {
		return nil, err
	}
	return l.Image(d)
}

// FindIndex loads the index stored under ref in index.json.
func (l *Layout) FindIndex(ref string) (*IndexImage, error) {
	for _, d := range l.index.Manifests {
		if refName(d) == ref {
			if !isIndex(d.MediaType) {
				return nil, fmt.Errorf("layout %s: %q is a %s, not an index", l.path, ref, d.MediaType)
			}
			return l.IndexImage(d)
		}
	}
	return nil, fmt.Errorf("layout %s: no entry named %q (names: %s)", l.path, ref, strings.Join(l.Refs(), ", "))
}

// Digests lists every blob in the layout.
func (l *Layout) Digests() []digest.Digest {
	d := l.src.digests()
	slices.Sort(d)
	return d
}
