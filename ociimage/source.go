package ociimage

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// sizedReaderAt is a blob open for random access.
type sizedReaderAt interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

// blobSource is where a Layout finds blobs: a directory, a tar, or (for a
// docker-archive) files of a tar plus documents made in memory.
type blobSource interface {
	size(d digest.Digest) (int64, error)
	readerAt(d digest.Digest) (sizedReaderAt, error)
	digests() []digest.Digest
	close() error
}

func notFound(d digest.Digest) error {
	return fmt.Errorf("blob %s: %w", d, errdefs.ErrNotFound)
}

// dirSource serves blobs/<alg>/<hex> of a layout directory.
type dirSource struct{ dir string }

func (s dirSource) size(d digest.Digest) (int64, error) {
	p, err := blobPath(s.dir, d)
	if err != nil {
		return 0, err
	}
	st, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return 0, notFound(d)
	}
	if err != nil {
		return 0, fmt.Errorf("blob %s: %w", d, err)
	}
	return st.Size(), nil
}

func (s dirSource) readerAt(d digest.Digest) (sizedReaderAt, error) {
	p, err := blobPath(s.dir, d)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, notFound(d)
	}
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", d, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("blob %s: %w", d, err)
	}
	return fileReaderAt{f, st.Size()}, nil
}

func (s dirSource) digests() []digest.Digest {
	var out []digest.Digest
	algs, _ := os.ReadDir(filepath.Join(s.dir, ocispec.ImageBlobsDir))
	for _, a := range algs {
		files, _ := os.ReadDir(filepath.Join(s.dir, ocispec.ImageBlobsDir, a.Name()))
		for _, f := range files {
			d := digest.NewDigestFromEncoded(digest.Algorithm(a.Name()), f.Name())
			if f.Type().IsRegular() && d.Validate() == nil {
				out = append(out, d)
			}
		}
	}
	return out
}

func (dirSource) close() error { return nil }

type fileReaderAt struct {
	*os.File
	n int64
}

func (f fileReaderAt) Size() int64 { return f.n }

// section is a member of a tar file: where its content starts and its size.
type section struct{ off, n int64 }

// tarSource serves the members of an uncompressed tar in place, by offset,
// and a compressed tar from memory. mem also holds documents a
// docker-archive reader synthesises.
type tarSource struct {
	f      *os.File
	files  map[string]section // member path -> content in f
	mem    map[string][]byte  // member path -> content, for compressed tars
	blobs  map[digest.Digest]string
	extras map[digest.Digest][]byte
}

// openTar indexes the members of the tar at p. An uncompressed tar is read
// in place; a compressed one is unpacked into memory.
func openTar(p string) (*tarSource, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	s := &tarSource{files: map[string]section{}, mem: map[string][]byte{}, blobs: map[digest.Digest]string{}, extras: map[digest.Digest][]byte{}}
	head := make([]byte, 6)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	compressed := bytes.HasPrefix(head, magicGzip) || bytes.HasPrefix(head, magicZstd) || bytes.HasPrefix(head, magicXz)
	if compressed {
		err = s.readCompressed(p, f)
		f.Close()
	} else {
		s.f = f
		err = s.index(p)
	}
	if err != nil {
		if s.f != nil {
			s.f.Close()
		}
		return nil, err
	}
	for name := range s.allNames() {
		if d, ok := blobDigest(name); ok {
			s.blobs[d] = name
		}
	}
	return s, nil
}

func (s *tarSource) allNames() map[string]bool {
	out := map[string]bool{}
	for k := range s.files {
		out[k] = true
	}
	for k := range s.mem {
		out[k] = true
	}
	return out
}

// blobDigest turns blobs/<alg>/<hex> into a digest.
func blobDigest(name string) (digest.Digest, bool) {
	parts := strings.Split(name, "/")
	if len(parts) != 3 || parts[0] != ocispec.ImageBlobsDir {
		return "", false
	}
	d := digest.NewDigestFromEncoded(digest.Algorithm(parts[1]), parts[2])
	return d, d.Validate() == nil
}

// countingReader tells the tar reader's position in the file, so that a
// member's content can later be read with ReadAt.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (s *tarSource) index(p string) error {
	cr := &countingReader{r: s.f}
	err := eachFile(p, tar.NewReader(cr), func(hdr *tar.Header, _ io.Reader) error {
		// archive/tar has consumed the header and nothing of the content:
		// the content starts here and, not being sparse, is contiguous.
		s.files[memberName(hdr.Name)] = section{cr.n, hdr.Size}
		return nil
	})
	if err != nil {
		return err
	}
	if len(s.files) == 0 {
		return fmt.Errorf("read tar %s: no files in it", p)
	}
	return nil
}

func (s *tarSource) readCompressed(p string, f *os.File) error {
	r, err := decompress(p, f)
	if err != nil {
		return err
	}
	defer r.Close()
	err = eachFile(p, tar.NewReader(r), func(hdr *tar.Header, content io.Reader) error {
		data, err := io.ReadAll(content)
		if err != nil {
			return fmt.Errorf("read tar %s: %s: %w", p, hdr.Name, err)
		}
		s.mem[memberName(hdr.Name)] = data
		return nil
	})
	if err != nil {
		return err
	}
	if len(s.mem) == 0 {
		return fmt.Errorf("read tar %s: no files in it", p)
	}
	return nil
}

func memberName(n string) string {
	return strings.TrimPrefix(path.Clean("/"+n), "/")
}

// file returns a member by path.
func (s *tarSource) file(name string) (sizedReaderAt, bool) {
	name = memberName(name)
	if sec, ok := s.files[name]; ok {
		return nopCloserAt{io.NewSectionReader(s.f, sec.off, sec.n)}, true
	}
	if data, ok := s.mem[name]; ok {
		return nopCloserAt{bytes.NewReader(data)}, true
	}
	return nil, false
}

func (s *tarSource) readFile(name string) ([]byte, error) {
	r, ok := s.file(name)
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, errdefs.ErrNotFound)
	}
	return io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
}

func (s *tarSource) size(d digest.Digest) (int64, error) {
	r, err := s.readerAt(d)
	if err != nil {
		return 0, err
	}
	return r.Size(), nil
}

func (s *tarSource) readerAt(d digest.Digest) (sizedReaderAt, error) {
	if data, ok := s.extras[d]; ok {
		return nopCloserAt{bytes.NewReader(data)}, nil
	}
	if name, ok := s.blobs[d]; ok {
		if r, ok := s.file(name); ok {
			return r, nil
		}
	}
	return nil, notFound(d)
}

func (s *tarSource) digests() []digest.Digest {
	var out []digest.Digest
	for d := range s.blobs {
		out = append(out, d)
	}
	for d := range s.extras {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (s *tarSource) close() error {
	if s.f != nil {
		return s.f.Close()
	}
	return nil
}

type sizedAt interface {
	io.ReaderAt
	Size() int64
}

type nopCloserAt struct{ sizedAt }

func (nopCloserAt) Close() error { return nil }

// eachFile calls fn for each regular file of the tar archive p, with the
// reader positioned at its content.
func eachFile(p string, tr *tar.Reader, fn func(hdr *tar.Header, content io.Reader) error) error {
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read tar %s: %w", p, err)
		}
		if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeRegA {
			continue
		}
		if err := fn(hdr, tr); err != nil {
			return err
		}
	}
}
