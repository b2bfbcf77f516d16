package mirror

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// memImage is a one-layer image held in memory, for tests that need an
// image before any source kind is involved.
type memImage struct {
	root  ocispec.Descriptor
	layer ocispec.Descriptor
	blobs map[digest.Digest][]byte
}

// newMemImage makes an image whose layer holds a file of size
// pseudo-random bytes (seeded, so the same seed gives the same image).
func newMemImage(t testing.TB, size int, seed uint64) *memImage {
	t.Helper()
	data := make([]byte, size)
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	if err := tw.WriteHeader(&tar.Header{Name: "data", Mode: 0o644, Size: int64(size), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write(data)
	tw.Close()
	m := &memImage{blobs: map[digest.Digest][]byte{}}
	add := func(mt string, b []byte) ocispec.Descriptor {
		d := ocispec.Descriptor{MediaType: mt, Digest: digest.FromBytes(b), Size: int64(len(b))}
		m.blobs[d.Digest] = b
		return d
	}
	m.layer = add(ocispec.MediaTypeImageLayer, tb.Bytes())
	cfg, _ := json.Marshal(ocispec.Image{
		Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{m.layer.Digest}},
	})
	cfgDesc := add(ocispec.MediaTypeImageConfig, cfg)
	man, _ := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    cfgDesc,
		Layers:    []ocispec.Descriptor{m.layer},
	})
	m.root = add(ocispec.MediaTypeImageManifest, man)
	return m
}

func (m *memImage) ReaderAt(_ context.Context, d ocispec.Descriptor) (content.ReaderAt, error) {
	b, ok := m.blobs[d.Digest]
	if !ok {
		return nil, errdefs.ErrNotFound
	}
	return bytesReaderAt{bytes.NewReader(b)}, nil
}

type bytesReaderAt struct{ *bytes.Reader }

func (bytesReaderAt) Close() error { return nil }

var _ io.ReaderAt = bytesReaderAt{}

// serveMemImage starts a private registry holding img at name ("repo:tag")
// and returns the image's full reference on it and the registry's storage
// directory.
func serveMemImage(t testing.TB, img *memImage, name string) (ref, dir string) {
	t.Helper()
	dir = t.TempDir()
	addr, stop, err := NewRegistry(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	})
	ref = addr + "/" + name
	if err := push(context.Background(), ref, img.root, verifyingProvider{Provider: img, source: "memImage"}); err != nil {
		t.Fatal(err)
	}
	return ref, dir
}

// push copies the image rooted at desc from provider to ref on a loopback
// registry (a private one: the mirror's own takes no pushes): blobs first, then manifests, the root last, so that a reader of
// ref never sees a manifest whose blobs are missing.
func push(ctx context.Context, ref string, desc ocispec.Descriptor, provider verifyingProvider) error {
	pusher, err := newResolver(nil).Pusher(ctx, ref+"@"+desc.Digest.String())
	if err != nil {
		return fmt.Errorf("push to %s: %w", ref, err)
	}
	if err := remotes.PushContent(ctx, pusher, desc, provider, nil, nil, nil); err != nil {
		return fmt.Errorf("push to %s: %w", ref, err)
	}
	return nil
}
