package ociimage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// blob is one piece of content to store: its descriptor and how to read it.
type blob struct {
	desc ocispec.Descriptor
	open func() (io.ReadCloser, error)
}

func bytesBlob(mediaType string, raw []byte) blob {
	return blob{
		desc: ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(raw), Size: int64(len(raw))},
		open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil },
	}
}

// blobs lists every blob an image needs, layers first so that a manifest is
// stored only after what it points to.
func (i *Image) blobs() []blob {
	var out []blob
	for _, l := range i.layers {
		out = append(out, blob{desc: l.Descriptor(), open: l.Open})
	}
	out = append(out, bytesBlob(i.Manifest.Config.MediaType, i.rawConfig))
	return append(out, bytesBlob(i.Descriptor.MediaType, i.rawManifest))
}

func (x *IndexImage) blobs() []blob {
	var out []blob
	for _, img := range x.Images {
		out = append(out, img.blobs()...)
	}
	return append(out, bytesBlob(x.Descriptor.MediaType, x.raw))
}

// WriteLayout stores img in the OCI image
// layout directory dir, creating it if needed and keeping what is there.
// The entry added to index.json carries org.opencontainers.image.ref.name
// = refName (unless refName is empty) and replaces an entry of the same
// name. Blobs already present are not rewritten; new ones appear under
// their final name only once complete. WriteLayout does not lock: callers
// writing one layout from several processes serialise themselves.
func WriteLayout(dir string, refName string, img Artifact) (ocispec.Descriptor, error) {
	if img == nil || img.isNil() {
		return ocispec.Descriptor{}, errors.New("write layout: no image given")
	}
	desc, blobs := img.artifact()
	if err := initLayout(dir); err != nil {
		return desc, err
	}
	for _, b := range blobs {
		if err := writeBlob(dir, b); err != nil {
			return desc, fmt.Errorf("write layout %s: %w", dir, err)
		}
	}
	desc.Annotations = maps.Clone(desc.Annotations)
	if refName != "" {
		if desc.Annotations == nil {
			desc.Annotations = map[string]string{}
		}
		desc.Annotations[ocispec.AnnotationRefName] = refName
	}
	if err := addToIndex(dir, desc, refName); err != nil {
		return desc, fmt.Errorf("write layout %s: %w", dir, err)
	}
	return desc, nil
}

func initLayout(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, ocispec.ImageBlobsDir, "sha256"), 0o755); err != nil {
		return fmt.Errorf("write layout: %w", err)
	}
	marker := filepath.Join(dir, ocispec.ImageLayoutFile)
	raw, err := os.ReadFile(marker)
	if errors.Is(err, os.ErrNotExist) {
		raw, _ = json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
		return writeAtomic(marker, raw)
	}
	if err != nil {
		return fmt.Errorf("write layout: %w", err)
	}
	var l ocispec.ImageLayout
	if err := json.Unmarshal(raw, &l); err != nil || l.Version == "" {
		return fmt.Errorf("write layout: %s is not an OCI layout marker", marker)
	}
	return nil
}

func blobPath(dir string, d digest.Digest) (string, error) {
	if err := d.Validate(); err != nil {
		return "", fmt.Errorf("blob %q: %w", d, err)
	}
	return filepath.Join(dir, ocispec.ImageBlobsDir, d.Algorithm().String(), d.Encoded()), nil
}

// writeBlob copies b into the layout, checking size and digest on the way.
func writeBlob(dir string, b blob) error {
	p, err := blobPath(dir, b.desc.Digest)
	if err != nil {
		return err
	}
	if st, err := os.Stat(p); err == nil && st.Size() == b.desc.Size {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	rc, err := b.open()
	if err != nil {
		return fmt.Errorf("blob %s: %w", b.desc.Digest, err)
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-"+b.desc.Digest.Encoded()[:12]+"-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	v := b.desc.Digest.Algorithm().Digester()
	n, err := io.Copy(io.MultiWriter(tmp, v.Hash()), rc)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("blob %s: %w", b.desc.Digest, err)
	}
	if n != b.desc.Size || v.Digest() != b.desc.Digest {
		return fmt.Errorf("blob %s: content has digest %s and size %d, want size %d", b.desc.Digest, v.Digest(), n, b.desc.Size)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}

func addToIndex(dir string, desc ocispec.Descriptor, refName string) error {
	p := filepath.Join(dir, ocispec.ImageIndexFile)
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
	raw, err := os.ReadFile(p)
	switch {
	case err == nil:
		if err := json.Unmarshal(raw, &idx); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	kept := []ocispec.Descriptor{}
	for _, m := range idx.Manifests {
		if refName != "" && m.Annotations[ocispec.AnnotationRefName] == refName {
			continue
		}
		if refName == "" && m.Digest == desc.Digest && m.Annotations[ocispec.AnnotationRefName] == "" {
			continue
		}
		kept = append(kept, m)
	}
	idx.Manifests = append(kept, desc)
	raw, err = json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(p, raw)
}

// writeAtomic replaces p with data so that a reader sees the old or the new
// content, never a part.
func writeAtomic(p string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-"+filepath.Base(p)+"-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}
