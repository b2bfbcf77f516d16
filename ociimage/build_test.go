package ociimage

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/matrixbox/matrixbox/matrix/platform"

	"github.com/matrixbox/matrixbox/internal/testkit"
)

func mustPlatform(t testing.TB, s string) ocispec.Platform {
	t.Helper()
	p, err := platform.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustLayer(t testing.TB, files map[string]File) Layer {
	t.Helper()
	l, err := LayerFromFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestWriteLayoutByHand checks a written layout without this package's
// reader: index.json, the manifest and the config are parsed as plain JSON
// and every blob is hashed.
func TestWriteLayoutByHand(t *testing.T) {
	dir := t.TempDir()
	l1 := mustLayer(t, map[string]File{"/etc/os-release": {Data: []byte("ID=test\n")}})
	l2 := mustLayer(t, map[string]File{"/bin/app": {Data: []byte("#!/bin/sh\necho hi\n"), Mode: 0o755}})
	img, err := Build(Config{Platform: mustPlatform(t, "linux/arm64"), Cmd: []string{"/bin/app"}, Labels: map[string]string{"k": "v"}}, l1, l2)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := WriteLayout(dir, "app:1", img)
	if err != nil {
		t.Fatal(err)
	}
	var index struct {
		SchemaVersion int `json:"schemaVersion"`
		Manifests     []struct {
			MediaType   string            `json:"mediaType"`
			Digest      string            `json:"digest"`
			Size        int64             `json:"size"`
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	testkit.ReadJSON(t, filepath.Join(dir, "index.json"), &index)
	if index.SchemaVersion != 2 || len(index.Manifests) != 1 {
		t.Fatalf("index.json: %+v", index)
	}
	e := index.Manifests[0]
	if e.Annotations["org.opencontainers.image.ref.name"] != "app:1" || e.Digest != string(desc.Digest) || e.MediaType != ocispec.MediaTypeImageManifest {
		t.Errorf("index.json entry %+v, want ref app:1 digest %s", e, desc.Digest)
	}
	var m struct {
		Config struct{ Digest string } `json:"config"`
		Layers []struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
		} `json:"layers"`
	}
	testkit.ReadJSON(t, blobFile(dir, e.Digest), &m)
	if len(m.Layers) != 2 || m.Layers[0].Digest != string(l1.Digest) || m.Layers[1].MediaType != "application/vnd.oci.image.layer.v1.tar+gzip" {
		t.Errorf("manifest layers %+v", m.Layers)
	}
	var c struct {
		Architecture string `json:"architecture"`
		OS           string `json:"os"`
		Config       struct {
			Labels map[string]string
			Cmd    []string
		} `json:"config"`
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	testkit.ReadJSON(t, blobFile(dir, m.Config.Digest), &c)
	if c.Architecture != "arm64" || c.OS != "linux" || c.Config.Labels["k"] != "v" || len(c.RootFS.DiffIDs) != 2 || c.RootFS.DiffIDs[1] != string(l2.DiffID) {
		t.Errorf("config %+v", c)
	}
	for _, d := range append([]string{e.Digest, m.Config.Digest}, m.Layers[0].Digest, m.Layers[1].Digest) {
		data, err := os.ReadFile(blobFile(dir, d))
		if err != nil {
			t.Fatal(err)
		}
		if got := digest.FromBytes(data).String(); got != d {
			t.Errorf("blob %s hashes to %s", d, got)
		}
	}
}

func blobFile(dir, d string) string {
	dg := digest.Digest(d)
	return filepath.Join(dir, "blobs", dg.Algorithm().String(), dg.Encoded())
}

func TestRoundTripIndex(t *testing.T) {
	dir := t.TempDir()
	var imgs []*Image
	for _, p := range []string{"linux/amd64", "linux/arm64", "linux/arm/v7"} {
		img, err := Build(Config{Platform: mustPlatform(t, p)}, mustLayer(t, map[string]File{"/p": {Data: []byte(p)}}))
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	idx, err := Index(imgs...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteLayout(dir, "multi", idx); err != nil {
		t.Fatal(err)
	}
	l, err := OpenLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, tc := range []struct{ ask, want string }{
		{"linux/x86_64", "linux/amd64"}, {"linux/aarch64", "linux/arm64"}, {"linux/arm64/v8", "linux/arm64"},
		{"linux/armv7l", "linux/arm/v7"}, {"linux/amd64/v3", "linux/amd64"}, {"linux/amd64/v1", "linux/amd64"},
	} {
		img, err := l.Find(WithRef("multi"), WithPlatform(tc.ask))
		if err != nil {
			t.Errorf("find %s: %v", tc.ask, err)
			continue
		}
		data, err := img.ReadFile("/p")
		if err != nil || string(data) != tc.want {
			t.Errorf("find %s: /p = %q, %v; want %q", tc.ask, data, err, tc.want)
		}
	}
}

// TestBuildHistoryAsADockerfileWouldHaveIt: one history entry per layer,
// then ENTRYPOINT and CMD as entries with no layer, as in Docker Hub's
// busybox (its layer and CMD ["sh"]): BuildKit's TestExportedHistory
// counts them in the image it builds on top.
func TestBuildHistoryAsADockerfileWouldHaveIt(t *testing.T) {
	img, err := Build(Config{Platform: mustPlatform(t, "linux/amd64"), Cmd: []string{"sh"}}, mustLayer(t, map[string]File{"a": {Data: []byte("a")}}))
	if err != nil {
		t.Fatal(err)
	}
	h := img.Config.History
	if len(h) != 2 || h[0].EmptyLayer || h[1].CreatedBy != `CMD ["sh"]` || !h[1].EmptyLayer {
		t.Fatalf("history %+v: want the layer's entry, then CMD [\"sh\"] with no layer", h)
	}
	img, err = Build(Config{Platform: mustPlatform(t, "linux/amd64"), Entrypoint: []string{"/bin/x"}, Cmd: []string{}}, mustLayer(t, map[string]File{"a": {Data: []byte("a")}}))
	if err != nil {
		t.Fatal(err)
	}
	if h := img.Config.History; len(h) != 3 || h[1].CreatedBy != `ENTRYPOINT ["/bin/x"]` || h[2].CreatedBy != `CMD []` {
		t.Fatalf("history %+v: want the layer's, ENTRYPOINT, then CMD", h)
	}
}
