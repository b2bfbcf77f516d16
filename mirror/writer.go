package mirror

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/distribution/distribution/v3"
	"github.com/distribution/distribution/v3/registry/storage"
	"github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	"github.com/distribution/reference"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sirupsen/logrus"
)

// storeWriter writes images into a registry's storage directory through
// the registry library's storage API, in this process. The mirror's
// server takes no writes (see readOnly): what it serves changes only by
// what Ensure writes here, never by a client of its address; and a failed
// write says why, "no space left on device" and on which path, where a
// push over HTTP said only a status.
type storeWriter struct {
	ns distribution.Namespace
	// log receives the registry library's own log.
	log *logrus.Entry
}

func newStoreWriter(root string, log io.Writer) (*storeWriter, error) {
	logger := logrus.New()
	logger.Out = log
	logger.Level = logrus.WarnLevel
	w := &storeWriter{log: logrus.NewEntry(logger).WithField("registry", root)}
	d := filesystem.New(filesystem.DriverParameters{RootDirectory: root, MaxThreads: 100})
	ns, err := storage.NewRegistry(withRegistryLogger(context.Background(), w.log), d)
	if err != nil {
		return nil, fmt.Errorf("registry storage %s: %w", root, err)
	}
	w.ns = ns
	return w, nil
}

// put writes desc and everything it references, read from provider, into
// repository repo, each blob and manifest before what references it, and
// points tag at desc.
func (w *storeWriter) put(ctx context.Context, repo, tag string, desc ocispec.Descriptor, provider content.Provider) error {
	ctx = withRegistryLogger(ctx, w.log)
	named, err := reference.WithName(repo)
	if err != nil {
		return fmt.Errorf("repository %q: %w", repo, err)
	}
	r, err := w.ns.Repository(ctx, named)
	if err != nil {
		return fmt.Errorf("repository %s: %w", repo, err)
	}
	written := map[string]bool{}
	var write func(d ocispec.Descriptor) error
	write = func(d ocispec.Descriptor) error {
		if written[d.Digest.String()] {
			return nil
		}
		written[d.Digest.String()] = true
		if images.IsManifestType(d.MediaType) || images.IsIndexType(d.MediaType) {
			return w.putManifest(ctx, r, d, provider, write)
		}
		return putBlob(ctx, r, d, provider)
	}
	if err := write(desc); err != nil {
		return fmt.Errorf("write %s into the mirror: %w", repo, err)
	}
	if err := r.Tags(ctx).Tag(ctx, tag, desc); err != nil {
		return fmt.Errorf("tag %s:%s in the mirror: %w", repo, tag, err)
	}
	return nil
}

// putManifest writes the manifest or index d after everything it
// references.
func (w *storeWriter) putManifest(ctx context.Context, r distribution.Repository, d ocispec.Descriptor, provider content.Provider, write func(ocispec.Descriptor) error) error {
	payload, err := content.ReadBlob(ctx, provider, d)
	if err != nil {
		return fmt.Errorf("manifest %s: %w", d.Digest, err)
	}
	children, err := images.Children(ctx, provider, d)
	if err != nil {
		return fmt.Errorf("manifest %s: %w", d.Digest, err)
	}
	for _, c := range children {
		if err := write(c); err != nil {
			return err
		}
	}
	m, _, err := distribution.UnmarshalManifest(d.MediaType, payload)
	if err != nil {
		return fmt.Errorf("manifest %s (%s): %w", d.Digest, d.MediaType, err)
	}
	ms, err := r.Manifests(ctx)
	if err != nil {
		return err
	}
	got, err := ms.Put(ctx, m)
	if err != nil {
		return fmt.Errorf("manifest %s: %w", d.Digest, err)
	}
	if got != d.Digest {
		return fmt.Errorf("manifest %s stored as %s", d.Digest, got)
	}
	return nil
}

// putBlob writes the blob d, unless the repository has it already; the
// registry library checks its size and digest before it commits it.
func putBlob(ctx context.Context, r distribution.Repository, d ocispec.Descriptor, provider content.Provider) (err error) {
	bs := r.Blobs(ctx)
	if _, err := bs.Stat(ctx, d.Digest); err == nil {
		return nil
	} else if !errors.Is(err, distribution.ErrBlobUnknown) {
		return fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	ra, err := provider.ReaderAt(ctx, d)
	if err != nil {
		return fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	defer ra.Close()
	bw, err := bs.Create(ctx)
	if err != nil {
		return fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, bw.Cancel(ctx))
		}
	}()
	if _, err := io.Copy(bw, content.NewReader(ra)); err != nil {
		return fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	if _, err := bw.Commit(ctx, ocispec.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size}); err != nil {
		return fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	return nil
}
