package ociimage

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpenLayoutTar: any bytes given as a layout or docker-archive tar are
// either refused with an error or give a layout whose images can be read
// (or refused) without a panic.
func FuzzOpenLayoutTar(f *testing.F) {
	f.Add([]byte("not a tar"))
	f.Add(make([]byte, 1024))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "in.tar")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		l, err := OpenLayout(p)
		if err != nil {
			return
		}
		defer l.Close()
		for _, d := range l.Root().Manifests {
			if img, err := l.Image(d); err == nil {
				img.Files()
			}
		}
	})
}

// FuzzArReader: the .deb container reader survives any input.
func FuzzArReader(f *testing.F) {
	f.Add([]byte("!<arch>\n"))
	f.Add([]byte("!<arch>\ndebian-binary   0           0     0     100644  4         `\n2.0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ar, err := newArReader(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			return
		}
		for i := 0; i < 100; i++ {
			_, r, err := ar.next()
			if err != nil {
				return
			}
			io.Copy(io.Discard, io.LimitReader(r, 1<<20))
		}
	})
}
