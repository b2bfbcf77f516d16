package image_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/matrixbox/matrixbox/matrix/platform"
	"github.com/matrixbox/matrixbox/mirror/image"
)

// Build a two-platform index, store it in an OCI layout, read the arm64
// manifest back by its kernel name and look inside.
func Example() {
	dir, err := os.MkdirTemp("", "layout")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	var imgs []*image.Image
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		plat, err := platform.Parse(p)
		if err != nil {
			log.Fatal(err)
		}
		layer, err := image.LayerFromFiles(map[string]image.File{
			"/etc/motd": {Data: []byte("built for " + p + "\n")},
		})
		if err != nil {
			log.Fatal(err)
		}
		img, err := image.Build(image.Config{Platform: plat, Labels: map[string]string{"app": "demo"}}, layer)
		if err != nil {
			log.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	idx, err := image.Index(imgs...)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := image.WriteLayout(filepath.Join(dir, "oci"), "demo:1", idx); err != nil {
		log.Fatal(err)
	}

	l, err := image.OpenLayout(filepath.Join(dir, "oci"))
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	img, err := l.Find(image.WithRef("demo:1"), image.WithPlatform("linux/aarch64"))
	if err != nil {
		log.Fatal(err)
	}
	motd, err := img.ReadFile("/etc/motd")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(motd))
	fmt.Println(len(img.Layers()), "layer,", platform.Format(img.Platform()))
	fmt.Println(image.Verify(img, image.LayerCount(1), image.Label("app", "demo")))
	// Output:
	// built for linux/arm64
	// 1 layer, linux/arm64
	// <nil>
}

// The marker index of the platform-selection scenario, and the two ways to
// hand it to BuildKit.
func ExampleMarkerIndex() {
	amd64, _ := platform.Parse("linux/amd64")
	base, err := image.Build(image.Config{Platform: amd64})
	if err != nil {
		log.Fatal(err)
	}
	idx, err := image.MarkerIndex(base, "linux/amd64", "linux/arm64")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(image.Verify(idx, image.Platforms("linux/amd64", "linux/arm64"),
		image.ForPlatform("linux/arm64", image.HasFile(image.MarkerPath, "linux/arm64"))))
	key, _ := image.NamedContext("busybox", "Markers", idx.Descriptor.Digest)
	fmt.Println(key, image.StoreID("Markers"))
	// Output:
	// <nil>
	// context:busybox markers
}
