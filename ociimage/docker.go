package ociimage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// dockerManifestEntry is one image of a docker-archive's manifest.json.
type dockerManifestEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// dockerArchive turns manifest.json into an OCI index: each entry becomes a
// manifest (made in memory) pointing at the tar's config and layer files by
// digest, listed once per repo tag under that ref name.
func dockerArchive(ts *tarSource, raw []byte) (ocispec.Index, error) {
	var entries []dockerManifestEntry
	if err := json.Unmarshal(raw, &entries); err != nil {
		return ocispec.Index{}, fmt.Errorf("manifest.json: %w", err)
	}
	if len(entries) == 0 {
		return ocispec.Index{}, fmt.Errorf("manifest.json lists no image")
	}
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
	for _, e := range entries {
		conf, err := ts.member(e.Config)
		if err != nil {
			return idx, err
		}
		var ic ocispec.Image
		if err := json.Unmarshal(conf.data, &ic); err != nil {
			return idx, fmt.Errorf("config %s: %w", e.Config, err)
		}
		m := ocispec.Manifest{
			Versioned: specs.Versioned{SchemaVersion: 2},
			MediaType: ocispec.MediaTypeImageManifest,
			Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: conf.digest, Size: conf.size},
			Layers:    []ocispec.Descriptor{},
		}
		for _, lp := range e.Layers {
			lm, err := ts.member(lp)
			if err != nil {
				return idx, err
			}
			mt := ocispec.MediaTypeImageLayer
			if lm.gzip {
				mt = ocispec.MediaTypeImageLayerGzip
			}
			m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: mt, Digest: lm.digest, Size: lm.size})
		}
		rawM, err := json.Marshal(m)
		if err != nil {
			return idx, err
		}
		md := digest.FromBytes(rawM)
		ts.extras[md] = rawM
		desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: md, Size: int64(len(rawM))}
		if ic.OS != "" {
			p := ic.Platform
			desc.Platform = &p
		}
		if len(e.RepoTags) == 0 {
			idx.Manifests = append(idx.Manifests, desc)
		}
		for _, tag := range e.RepoTags {
			d := desc
			d.Annotations = map[string]string{ocispec.AnnotationRefName: tag, annotationContainerdName: tag}
			idx.Manifests = append(idx.Manifests, d)
		}
	}
	return idx, nil
}

type memberInfo struct {
	digest digest.Digest
	size   int64
	gzip   bool
	data   []byte // for small documents (configs)
}

// member hashes a file of the tar and registers it as a blob under its
// digest. Configs are kept in memory as they are also parsed.
func (ts *tarSource) member(name string) (memberInfo, error) {
	r, ok := ts.file(name)
	if !ok {
		return memberInfo{}, fmt.Errorf("manifest.json names %q, which the archive lacks", name)
	}
	d := digest.Canonical.Digester()
	var head bytes.Buffer
	sr := io.NewSectionReader(r, 0, r.Size())
	w := io.Writer(d.Hash())
	small := r.Size() <= 1<<20
	if small {
		w = io.MultiWriter(w, &head)
	} else {
		var h [2]byte
		if _, err := r.ReadAt(h[:], 0); err == nil {
			head.Write(h[:])
		}
	}
	if _, err := io.Copy(w, sr); err != nil {
		return memberInfo{}, fmt.Errorf("read %s: %w", name, err)
	}
	info := memberInfo{digest: d.Digest(), size: r.Size(), gzip: bytes.HasPrefix(head.Bytes(), magicGzip)}
	if small {
		info.data = head.Bytes()
	}
	ts.blobs[info.digest] = memberName(name)
	return info, nil
}
