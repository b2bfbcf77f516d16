package ociimage

import (
	"archive/tar"
	"fmt"
	"io"
	"strings"
)

// Squash makes one layer of the image's merged filesystem: what the
// layers show together, whiteouts applied and no whiteout left. Each layer
// is read once.
func (i *Image) Squash() (Layer, error) {
	m, err := i.mergedFS()
	if err != nil {
		return Layer{}, fmt.Errorf("squash: %w", err)
	}
	w := newLayerWriter()
	for n, l := range i.layers {
		ord := 0
		err := walkLayer(l, func(hdr *tar.Header, r io.Reader) (bool, error) {
			ord++
			name, err := cleanPath(hdr.Name)
			if err != nil || name == "" {
				return false, err
			}
			f, ok := m[name]
			if !ok || f.Layer != n || f.ordinal != ord {
				return false, nil
			}
			out := *hdr
			out.Name, out.Format = name, tar.FormatUnknown
			if out.Typeflag == tar.TypeLink {
				out.Linkname = strings.TrimPrefix(cleanLink(out.Linkname), "/")
			}
			return false, w.add(&out, r)
		})
		if err != nil {
			return Layer{}, fmt.Errorf("squash: layer %d (%s): %w", n, l.Digest, err)
		}
	}
	return w.finish()
}

func cleanLink(s string) string {
	c, err := cleanPath(s)
	if err != nil {
		return s
	}
	return c
}
