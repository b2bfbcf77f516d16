package ociimage

import (
	"context"
	"fmt"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Store is a read-only containerd content store over the layout, for
// BuildKit's SolveOpt.OCIStores: blobs are served from where they lie,
// nothing is copied. Writes, updates and deletes fail with an error
// wrapping errdefs.ErrNotImplemented. The store is valid until the layout
// is closed.
func (l *Layout) Store() content.Store { return &layoutStore{l: l} }

type layoutStore struct{ l *Layout }

var _ content.Store = (*layoutStore)(nil)

func (s *layoutStore) readOnly(op string) error {
	return fmt.Errorf("%s on layout %s: the store is read-only: %w", op, s.l.path, errdefs.ErrNotImplemented)
}

func (s *layoutStore) Info(ctx context.Context, d digest.Digest) (content.Info, error) {
	n, err := s.l.src.size(d)
	if err != nil {
		return content.Info{}, fmt.Errorf("layout %s: %w", s.l.path, err)
	}
	return content.Info{Digest: d, Size: n, CreatedAt: time.Unix(0, 0), UpdatedAt: time.Unix(0, 0)}, nil
}

func (s *layoutStore) ReaderAt(ctx context.Context, desc ocispec.Descriptor) (content.ReaderAt, error) {
	r, err := s.l.src.readerAt(desc.Digest)
	if err != nil {
		return nil, fmt.Errorf("layout %s: %w", s.l.path, err)
	}
	return r, nil
}

func (s *layoutStore) Walk(ctx context.Context, fn content.WalkFunc, filters ...string) error {
	if len(filters) > 0 {
		return fmt.Errorf("walk layout %s with filters %q: %w", s.l.path, filters, errdefs.ErrNotImplemented)
	}
	for _, d := range s.l.Digests() {
		info, err := s.Info(ctx, d)
		if err != nil {
			return err
		}
		if err := fn(info); err != nil {
			return err
		}
	}
	return nil
}

func (s *layoutStore) Update(ctx context.Context, info content.Info, fieldpaths ...string) (content.Info, error) {
	return content.Info{}, s.readOnly("update " + info.Digest.String())
}

func (s *layoutStore) Delete(ctx context.Context, d digest.Digest) error {
	return s.readOnly("delete " + d.String())
}

func (s *layoutStore) Status(ctx context.Context, ref string) (content.Status, error) {
	return content.Status{}, fmt.Errorf("ingest %q on read-only layout %s: %w", ref, s.l.path, errdefs.ErrNotFound)
}

func (s *layoutStore) ListStatuses(ctx context.Context, filters ...string) ([]content.Status, error) {
	return nil, nil
}

func (s *layoutStore) Abort(ctx context.Context, ref string) error {
	return fmt.Errorf("ingest %q on read-only layout %s: %w", ref, s.l.path, errdefs.ErrNotFound)
}

func (s *layoutStore) Writer(ctx context.Context, opts ...content.WriterOpt) (content.Writer, error) {
	return nil, s.readOnly("write")
}
