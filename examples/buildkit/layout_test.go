package buildkit

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/containerd/containerd/v2/core/content"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/matrixbox/matrixbox/workers"
)

type contentStore = content.Store

// writeBusyboxLayout unpacks the offline busybox archive into dir, an OCI
// layout. Once the mirror serves busybox this goes: the image is pulled.
func writeBusyboxLayout(dir string) (ocispec.Descriptor, error) {
	pr, pw := io.Pipe()
	descc := make(chan ocispec.Descriptor, 1)
	go func() {
		d, err := workers.WriteBusyboxArchive(pw)
		descc <- d
		pw.CloseWithError(err)
	}()
	tr := tar.NewReader(pr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		p := filepath.Join(dir, filepath.Clean("/"+h.Name))
		if h.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return ocispec.Descriptor{}, err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return ocispec.Descriptor{}, err
		}
		f, err := os.Create(p)
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		_, err = io.Copy(f, tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return ocispec.Descriptor{}, err
		}
	}
	return <-descc, nil
}
