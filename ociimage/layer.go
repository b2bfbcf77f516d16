package ociimage

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Layer is one layer of an image: its blob as stored (a gzip-compressed tar
// for built layers) and the identifiers a manifest and a config need.
type Layer struct {
	MediaType   string
	Digest      digest.Digest // of the blob as stored
	DiffID      digest.Digest // of the uncompressed tar
	Size        int64         // of the blob as stored
	Annotations map[string]string

	open func() (io.ReadCloser, error)
}

// Descriptor is the layer's entry in a manifest.
func (l Layer) Descriptor() ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: l.MediaType, Digest: l.Digest, Size: l.Size, Annotations: l.Annotations}
}

// Open returns the blob as stored. Blobs read from a layout are checked
// against their digest: the reader fails at the end when they do not match.
func (l Layer) Open() (io.ReadCloser, error) {
	if l.open == nil {
		return nil, fmt.Errorf("layer %s: no content", l.Digest)
	}
	return l.open()
}

// Tar returns the layer's uncompressed tar stream.
func (l Layer) Tar() (io.ReadCloser, error) {
	rc, err := l.Open()
	if err != nil {
		return nil, err
	}
	r, err := decompress(l.MediaType, rc)
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{r, closers{r, rc}}, nil
}

// File is one entry of [LayerFromFiles]. A non-empty Link makes a symbolic
// link; Mode with fs.ModeDir makes a directory. A zero permission means 0644
// for files and 0755 for directories.
//
// A non-empty Hardlink makes another name of the regular file at that path
// (an entry of the same map): the names share its content, mode and owner,
// and this entry's other fields are not used. As tar does, the content is
// stored once, under the first of the names in sorted order, and the other
// names are hard links to that one.
type File struct {
	Data     []byte
	Mode     fs.FileMode
	Link     string
	Hardlink string
	UID, GID int
}

// epoch is the modification time of every built entry, so that the same
// input always gives the same digest.
var epoch = time.Unix(0, 0).UTC()

// LayerFromFiles builds a layer holding files keyed by their absolute or
// relative path in the image. Parent directories are implied (0755, root).
func LayerFromFiles(files map[string]File) (Layer, error) {
	names := make([]string, 0, len(files))
	clean := make(map[string]File, len(files))
	for p, f := range files {
		c, err := cleanPath(p)
		if err != nil {
			return Layer{}, err
		}
		if c == "" {
			return Layer{}, fmt.Errorf("layer file %q: the root is not a file", p)
		}
		names = append(names, c)
		clean[c] = f
	}
	sort.Strings(names)
	stored, err := hardlinkGroups(clean, names)
	if err != nil {
		return Layer{}, err
	}
	w := newLayerWriter()
	for _, name := range names {
		f := clean[name]
		var linkTo string
		if f.Hardlink != "" {
			target, _ := cleanPath(f.Hardlink)
			f = clean[target]
			if first := stored[target]; first != name {
				linkTo = first
			}
		} else if first, ok := stored[name]; ok && first != name {
			linkTo = first
		}
		hdr := &tar.Header{Name: name, Uid: f.UID, Gid: f.GID, ModTime: epoch, Mode: int64(f.Mode.Perm())}
		switch {
		case linkTo != "":
			hdr.Typeflag, hdr.Linkname = tar.TypeLink, linkTo
			if hdr.Mode == 0 {
				hdr.Mode = 0o644
			}
		case f.Link != "":
			hdr.Typeflag, hdr.Linkname, hdr.Mode = tar.TypeSymlink, f.Link, 0o777
		case f.Mode.IsDir():
			hdr.Typeflag = tar.TypeDir
			if hdr.Mode == 0 {
				hdr.Mode = 0o755
			}
		default:
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(f.Data))
			if hdr.Mode == 0 {
				hdr.Mode = 0o644
			}
		}
		if f.Mode&fs.ModeSetuid != 0 {
			hdr.Mode |= 0o4000
		}
		if f.Mode&fs.ModeSetgid != 0 {
			hdr.Mode |= 0o2000
		}
		if f.Mode&fs.ModeSticky != 0 {
			hdr.Mode |= 0o1000
		}
		if err := w.add(hdr, bytes.NewReader(f.Data)); err != nil {
			return Layer{}, fmt.Errorf("layer file %q: %w", name, err)
		}
	}
	return w.finish()
}

// hardlinkGroups checks the Hardlink entries of files (keyed by clean
// name, names sorted) and returns, for each regular file that has other
// names, the first name of its group in sorted order: the one that stores
// the content.
func hardlinkGroups(files map[string]File, names []string) (map[string]string, error) {
	stored := map[string]string{}
	for _, name := range names {
		f := files[name]
		if f.Hardlink == "" {
			continue
		}
		target, err := cleanPath(f.Hardlink)
		if err != nil {
			return nil, fmt.Errorf("layer file %q: hard link: %w", name, err)
		}
		t, ok := files[target]
		switch {
		case !ok:
			return nil, fmt.Errorf("layer file %q: hard link to %q, which is not in the layer", name, f.Hardlink)
		case t.Hardlink != "" || t.Link != "" || t.Mode.IsDir():
			return nil, fmt.Errorf("layer file %q: hard link to %q, which is not a regular file", name, f.Hardlink)
		}
		// names is sorted: the first name seen of a group is its least.
		if _, ok := stored[target]; !ok {
			stored[target] = min(name, target)
		}
	}
	return stored, nil
}

// cleanPath turns an image path into a tar entry name: relative, slash
// separated, no "." or ".." elements. The root is "".
func cleanPath(p string) (string, error) {
	if strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("path %q: contains NUL", p)
	}
	c := path.Clean("/" + p)
	// path.Clean of a rooted path never leaves "..", so a name that needed
	// one to climb out would have been changed: reject it rather than
	// silently writing somewhere else.
	for _, el := range strings.Split(p, "/") {
		if el == ".." {
			return "", fmt.Errorf("path %q: climbs out of the root with ..", p)
		}
	}
	return strings.TrimPrefix(c, "/"), nil
}

// layerWriter streams tar entries through gzip into memory, hashing the tar
// (the diffID) on the way.
type layerWriter struct {
	blob bytes.Buffer
	diff digest.Digester
	gz   *gzip.Writer
	tw   *tar.Writer
	dirs map[string]bool // directories written or implied
}

func newLayerWriter() *layerWriter {
	w := &layerWriter{diff: digest.Canonical.Digester(), dirs: map[string]bool{"": true}}
	w.gz = gzip.NewWriter(&w.blob)
	w.tw = tar.NewWriter(io.MultiWriter(w.gz, w.diff.Hash()))
	return w
}

// add writes hdr (its Name already clean, without a trailing slash) and, for
// regular files, hdr.Size bytes of r. Missing parents are written first; a
// directory written twice is written once.
func (w *layerWriter) add(hdr *tar.Header, r io.Reader) error {
	name := strings.TrimSuffix(hdr.Name, "/")
	if err := w.parents(name); err != nil {
		return err
	}
	if hdr.Typeflag == tar.TypeDir {
		if w.dirs[name] && hdr.Mode == 0o755 && hdr.Uid == 0 && hdr.Gid == 0 {
			return nil
		}
		w.dirs[name] = true
		hdr.Name = name + "/"
	} else {
		hdr.Name = name
	}
	hdr.Uname, hdr.Gname = "", ""
	hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return err
	}
	if hdr.Typeflag == tar.TypeReg && hdr.Size > 0 {
		n, err := io.CopyN(w.tw, r, hdr.Size)
		if err != nil {
			return fmt.Errorf("copy %d of %d bytes: %w", n, hdr.Size, err)
		}
	}
	return nil
}

func (w *layerWriter) parents(name string) error {
	dir := path.Dir(name)
	if dir == "." || w.dirs[dir] {
		return nil
	}
	if err := w.parents(dir); err != nil {
		return err
	}
	w.dirs[dir] = true
	return w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755, ModTime: epoch})
}

func (w *layerWriter) finish() (Layer, error) {
	if err := w.tw.Close(); err != nil {
		return Layer{}, fmt.Errorf("close tar: %w", err)
	}
	if err := w.gz.Close(); err != nil {
		return Layer{}, fmt.Errorf("close gzip: %w", err)
	}
	return LayerFromBlob(ocispec.MediaTypeImageLayerGzip, w.blob.Bytes(), w.diff.Digest()), nil
}

// LayerFromBlob wraps a blob already made. An empty diffID is computed by
// decompressing the blob.
func LayerFromBlob(mediaType string, blob []byte, diffID digest.Digest) Layer {
	l := Layer{
		MediaType: mediaType,
		Digest:    digest.FromBytes(blob),
		Size:      int64(len(blob)),
		DiffID:    diffID,
		open:      func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(blob)), nil },
	}
	if l.DiffID == "" {
		if rc, err := l.Tar(); err == nil {
			if d, err := digest.FromReader(rc); err == nil {
				l.DiffID = d
			}
			rc.Close()
		}
	}
	return l
}

type closers []io.Closer

func (c closers) Close() error {
	var first error
	for _, x := range c {
		if err := x.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
