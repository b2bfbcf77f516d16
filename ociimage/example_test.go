package ociimage_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/matrixbox/matrixbox/matrix/platform"
	"github.com/matrixbox/matrixbox/ociimage"
)

// Build a two-platform index, store it in an OCI layout, read the arm64
// manifest back by its kernel name and look inside.
func Example() {
	dir, err := os.MkdirTemp("", "layout")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	var imgs []*ociimage.Image
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		plat, err := platform.Parse(p)
		if err != nil {
			log.Fatal(err)
		}
		layer, err := ociimage.LayerFromFiles(map[string]ociimage.File{
			"/etc/motd": {Data: []byte("built for " + p + "\n")},
		})
		if err != nil {
			log.Fatal(err)
		}
		img, err := ociimage.Build(ociimage.Config{Platform: plat, Labels: map[string]string{"app": "demo"}}, layer)
		if err != nil {
			log.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	idx, err := ociimage.Index(imgs...)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := ociimage.WriteLayout(filepath.Join(dir, "oci"), "demo:1", idx); err != nil {
		log.Fatal(err)
	}

	l, err := ociimage.OpenLayout(filepath.Join(dir, "oci"))
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	img, err := l.Find(ociimage.WithRef("demo:1"), ociimage.WithPlatform("linux/aarch64"))
	if err != nil {
		log.Fatal(err)
	}
	motd, err := img.ReadFile("/etc/motd")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(motd))
	fmt.Println(len(img.Layers()), "layer,", platform.Format(img.Platform()))
	fmt.Println(ociimage.Verify(img, ociimage.LayerCount(1), ociimage.Label("app", "demo")))
	// Output:
	// built for linux/arm64
	// 1 layer, linux/arm64
	// <nil>
}

// The marker index of the platform-selection scenario, and the two ways to
// hand it to BuildKit.
func ExampleMarkerIndex() {
	amd64, _ := platform.Parse("linux/amd64")
	base, err := ociimage.Build(ociimage.Config{Platform: amd64})
	if err != nil {
		log.Fatal(err)
	}
	idx, err := ociimage.MarkerIndex(base, "linux/amd64", "linux/arm64")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ociimage.Verify(idx, ociimage.Platforms("linux/amd64", "linux/arm64"),
		ociimage.ForPlatform("linux/arm64", ociimage.HasFile(ociimage.MarkerPath, "linux/arm64"))))
	key, _ := ociimage.NamedContext("busybox", "Markers", idx.Descriptor.Digest)
	fmt.Println(key, ociimage.StoreID("Markers"))
	// Output:
	// <nil>
	// context:busybox markers
}
