package mirror

import (
	"context"
	"fmt"
	"io"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ErrDigestMismatch is returned (wrapped) when a blob, a source's or one
// stored in the mirror, does not hash to the digest that names it.
var ErrDigestMismatch = fmt.Errorf("digest mismatch")

// faultInject, when set (by this package's tests only), is called after
// every read of a blob being copied with the bytes read so far. It is the
// fault injector that lets a test kill a process in the middle of a copy.
var faultInject func(dgst digest.Digest, done int64)

// verifyingProvider checks every blob it hands out against its descriptor:
// size when opened, digest once the last byte is read. A mismatch fails the
// read, so nothing unverified is ever committed to the mirror.
type verifyingProvider struct {
	content.Provider
	source string
}

func (p verifyingProvider) ReaderAt(ctx context.Context, desc ocispec.Descriptor) (content.ReaderAt, error) {
	if err := desc.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("source %s: descriptor %q: %w", p.source, desc.Digest, err)
	}
	ra, err := p.Provider.ReaderAt(ctx, desc)
	if err != nil {
		return nil, fmt.Errorf("source %s: blob %s: %w", p.source, desc.Digest, err)
	}
	if ra.Size() != desc.Size {
		ra.Close()
		return nil, fmt.Errorf("source %s: blob %s has %d bytes, its descriptor says %d: %w",
			p.source, desc.Digest, ra.Size(), desc.Size, ErrDigestMismatch)
	}
	r := &verifyingReaderAt{ReaderAt: ra, desc: desc, source: p.source, h: desc.Digest.Algorithm().Hash()}
	if desc.Size == 0 {
		if err := r.check(); err != nil {
			ra.Close()
			return nil, err
		}
	}
	return r, nil
}

type verifyingReaderAt struct {
	content.ReaderAt
	desc   ocispec.Descriptor
	source string
	h      interface {
		io.Writer
		Sum([]byte) []byte
	}
	next     int64 // bytes hashed so far, in order
	verified bool
}

func (r *verifyingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.ReaderAt.ReadAt(p, off)
	if r.verified {
		return n, err
	}
	if off != r.next {
		// Out of order: check the whole blob once, then serve freely.
		if verr := r.verifyAll(); verr != nil {
			return 0, verr
		}
		return n, err
	}
	r.h.Write(p[:n])
	r.next += int64(n)
	if faultInject != nil {
		faultInject(r.desc.Digest, r.next)
	}
	if r.next == r.desc.Size {
		if verr := r.check(); verr != nil {
			return 0, verr
		}
	}
	return n, err
}

func (r *verifyingReaderAt) verifyAll() error {
	r.h = r.desc.Digest.Algorithm().Hash()
	if _, err := io.Copy(r.h, io.NewSectionReader(r.ReaderAt, 0, r.desc.Size)); err != nil {
		return fmt.Errorf("source %s: read blob %s: %w", r.source, r.desc.Digest, err)
	}
	return r.check()
}

func (r *verifyingReaderAt) check() error {
	got := digest.NewDigestFromBytes(r.desc.Digest.Algorithm(), r.h.Sum(nil))
	if got != r.desc.Digest {
		return fmt.Errorf("source %s: blob %s: content hashes to %s: %w", r.source, r.desc.Digest, got, ErrDigestMismatch)
	}
	r.verified = true
	return nil
}

// streamProvider serves blobs from a fetcher that can only stream, such as
// a remote registry: reads must go forward; a read behind the stream
// reopens it.
type streamProvider struct {
	fetch func(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error)
}

func (p streamProvider) ReaderAt(ctx context.Context, desc ocispec.Descriptor) (content.ReaderAt, error) {
	rc, err := p.fetch(ctx, desc)
	if err != nil {
		return nil, err
	}
	return &streamReaderAt{ctx: ctx, p: p, desc: desc, rc: rc}, nil
}

type streamReaderAt struct {
	ctx  context.Context
	p    streamProvider
	desc ocispec.Descriptor
	rc   io.ReadCloser
	pos  int64
}

func (s *streamReaderAt) Size() int64 { return s.desc.Size }

func (s *streamReaderAt) Close() error { return s.rc.Close() }

func (s *streamReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < s.pos {
		s.rc.Close()
		rc, err := s.p.fetch(s.ctx, s.desc)
		if err != nil {
			return 0, err
		}
		s.rc, s.pos = rc, 0
	}
	if off > s.pos {
		n, err := io.CopyN(io.Discard, s.rc, off-s.pos)
		s.pos += n
		if err != nil {
			return 0, err
		}
	}
	n, err := io.ReadFull(s.rc, p)
	s.pos += int64(n)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return n, err
}
