package ociimage

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// LayerFromDebs unpacks the data.tar.* member of each Debian package into
// one layer, in order: a later package's file replaces an earlier one's.
// Maintainer scripts are not run, which is what a static package such as
// busybox-static needs and all a layer can hold.
func LayerFromDebs(debs ...string) (Layer, error) {
	if len(debs) == 0 {
		return Layer{}, errors.New("layer from debs: no package given")
	}
	w := newLayerWriter()
	for _, deb := range debs {
		if err := addDeb(w, deb); err != nil {
			return Layer{}, err
		}
	}
	return w.finish()
}

func addDeb(w *layerWriter, deb string) error {
	f, err := os.Open(deb)
	if err != nil {
		return fmt.Errorf("open package: %w", err)
	}
	defer f.Close()
	ar, err := newArReader(bufio.NewReader(f))
	if err != nil {
		return fmt.Errorf("package %s: %w", deb, err)
	}
	for {
		name, member, err := ar.next()
		if err == io.EOF {
			return fmt.Errorf("package %s: no data.tar member", deb)
		}
		if err != nil {
			return fmt.Errorf("package %s: %w", deb, err)
		}
		if !strings.HasPrefix(name, "data.tar") {
			continue
		}
		data, err := decompress(deb+" "+name, member)
		if err != nil {
			return fmt.Errorf("package %s: %w", deb, err)
		}
		defer data.Close()
		if err := copyTar(w, tar.NewReader(data)); err != nil {
			return fmt.Errorf("package %s: %s: %w", deb, name, err)
		}
		return nil
	}
}

// copyTar copies every entry of tr into w with cleaned names. Device nodes,
// FIFOs and the root entry are dropped: a layer built without privileges
// cannot hold them usefully.
func copyTar(w *layerWriter, tr *tar.Reader) error {
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name, err := cleanPath(hdr.Name)
		if err != nil {
			return err
		}
		if name == "" {
			continue
		}
		out := &tar.Header{
			Typeflag: hdr.Typeflag, Name: name, Mode: hdr.Mode & 0o7777,
			Uid: hdr.Uid, Gid: hdr.Gid, ModTime: epoch, PAXRecords: xattrs(hdr.PAXRecords),
		}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeRegA:
			out.Typeflag, out.Size = tar.TypeReg, hdr.Size
		case tar.TypeDir:
		case tar.TypeSymlink:
			out.Linkname = hdr.Linkname
		case tar.TypeLink:
			if out.Linkname, err = cleanPath(hdr.Linkname); err != nil {
				return err
			}
		default:
			continue
		}
		if err := w.add(out, tr); err != nil {
			return fmt.Errorf("%s: %w", hdr.Name, err)
		}
	}
}

// xattrs keeps the extended attributes (file capabilities, mostly) of a PAX
// header and nothing else.
func xattrs(pax map[string]string) map[string]string {
	var out map[string]string
	for k, v := range pax {
		if strings.HasPrefix(k, "SCHILY.xattr.") {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// arReader reads the common ar format of Debian packages: a global magic,
// then members with a 60-byte header each, padded to an even length.
type arReader struct {
	r    *bufio.Reader
	left int64 // bytes of the current member not yet read, padding included
}

func newArReader(r *bufio.Reader) (*arReader, error) {
	magic := make([]byte, 8)
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != "!<arch>\n" {
		return nil, errors.New("not an ar archive (a .deb starts with !<arch>)")
	}
	return &arReader{r: r}, nil
}

func (a *arReader) next() (string, io.Reader, error) {
	if a.left > 0 {
		if _, err := io.CopyN(io.Discard, a.r, a.left); err != nil {
			return "", nil, fmt.Errorf("ar: skip member: %w", err)
		}
	}
	hdr := make([]byte, 60)
	n, err := io.ReadFull(a.r, hdr)
	if err == io.EOF {
		return "", nil, io.EOF
	}
	if err != nil {
		return "", nil, fmt.Errorf("ar: truncated header after %d bytes: %w", n, err)
	}
	if !bytes.Equal(hdr[58:60], []byte("`\n")) {
		return "", nil, errors.New("ar: bad member header")
	}
	name := strings.TrimSuffix(strings.TrimSpace(string(hdr[0:16])), "/")
	size, err := strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
	if err != nil || size < 0 {
		return "", nil, fmt.Errorf("ar: member %q: bad size %q", name, strings.TrimSpace(string(hdr[48:58])))
	}
	a.left = size + size%2
	return name, &memberReader{a: a, n: size}, nil
}

type memberReader struct {
	a *arReader
	n int64
}

func (m *memberReader) Read(p []byte) (int, error) {
	if m.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > m.n {
		p = p[:m.n]
	}
	n, err := m.a.r.Read(p)
	m.n -= int64(n)
	m.a.left -= int64(n)
	if err == io.EOF && m.n > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}
