package bench

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/matrixbox/matrixbox/matrix/platform"
	"github.com/matrixbox/matrixbox/ociimage"
)

// benchLayout writes a two-platform index of three layers, each with n
// files, and returns the layout directory.
func benchLayout(b *testing.B, n int) string {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "layout")
	writeIndex(b, dir, "bench", func(p string) []ociimage.Layer {
		var layers []ociimage.Layer
		for l := 0; l < 3; l++ {
			files := map[string]ociimage.File{}
			for i := 0; i < n; i++ {
				files[fmt.Sprintf("/layer%d/dir%d/file%d", l, i%16, i)] = ociimage.File{Data: []byte(fmt.Sprintf("%s %d %d\n", p, l, i))}
			}
			if l > 0 {
				files[fmt.Sprintf("/layer%d/.wh.dir0", l-1)] = ociimage.File{}
			}
			layer, err := ociimage.LayerFromFiles(files)
			if err != nil {
				b.Fatal(err)
			}
			layers = append(layers, layer)
		}
		return layers
	})
	return dir
}

// writeIndex writes, in the layout at dir under ref, an index of a
// linux/amd64 and a linux/arm64 image, each of the layers made for it.
func writeIndex(b *testing.B, dir, ref string, layers func(platform string) []ociimage.Layer) {
	b.Helper()
	var imgs []*ociimage.Image
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		plat, err := platform.Parse(p)
		if err != nil {
			b.Fatal(err)
		}
		img, err := ociimage.Build(ociimage.Config{Platform: plat}, layers(p)...)
		if err != nil {
			b.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	idx, err := ociimage.Index(imgs...)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := ociimage.WriteLayout(dir, ref, idx); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLayoutInspect: open a layout, resolve a platform, check layer
// count, a label-free config and one file of the merged filesystem — what
// an image assertion costs.
func BenchmarkLayoutInspect(b *testing.B) {
	for _, n := range []int{100, 2000} {
		dir := benchLayout(b, n)
		b.Run(fmt.Sprintf("files=%d", 3*n), func(b *testing.B) {
			for b.Loop() {
				l, err := ociimage.OpenLayout(dir)
				if err != nil {
					b.Fatal(err)
				}
				img, err := l.Find(ociimage.WithRef("bench"), ociimage.WithPlatform("linux/aarch64"))
				if err != nil {
					b.Fatal(err)
				}
				if err := ociimage.Verify(img, ociimage.LayerCount(3), ociimage.Platform("linux/arm64"),
					ociimage.HasFile("/layer2/dir1/file1", "linux/arm64 2 1\n"), ociimage.NoFile("/layer1/dir0/file0")); err != nil {
					b.Fatal(err)
				}
				l.Close()
			}
		})
	}
}

// BenchmarkLayerFromFiles: building (tar + gzip + two digests) one layer.
func BenchmarkLayerFromFiles(b *testing.B) {
	files := map[string]ociimage.File{}
	for i := 0; i < 1000; i++ {
		files[fmt.Sprintf("/d%d/f%d", i%32, i)] = ociimage.File{Data: make([]byte, 1024)}
	}
	b.SetBytes(1000 * 1024)
	for b.Loop() {
		if _, err := ociimage.LayerFromFiles(files); err != nil {
			b.Fatal(err)
		}
	}
}
