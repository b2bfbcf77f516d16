package mirror_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/ociimage"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func Example() {
	tmp, _ := os.MkdirTemp("", "mirror-example-")
	defer os.RemoveAll(tmp)

	// An image in an OCI layout, as a build step might leave it.
	layer, _ := ociimage.LayerFromFiles(map[string]ociimage.File{"/hello": {Data: []byte("hello\n")}})
	img, _ := ociimage.Build(ociimage.Config{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}}, layer)
	layout := filepath.Join(tmp, "layout")
	ociimage.WriteLayout(layout, "hello", img)

	m := mirror.New(filepath.Join(tmp, "mirror"))
	defer m.Close()
	ctx := context.Background()
	images := map[string]string{"library/hello:1": "oci-layout:" + layout + "@hello"}
	if err := m.Ensure(ctx, images); err != nil {
		fmt.Println(err)
		return
	}
	m.Ensure(ctx, images) // present already: nothing is copied
	// Pull it as ADDR/library/hello:1, or point a daemon's docker.io
	// mirror at m.Addr().
	fmt.Println(m.Stats().Copies, m.Hosts())

	// Output: 1 [docker.io]
}
