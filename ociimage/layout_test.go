package ociimage

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/errdefs"
	"github.com/klauspost/compress/gzip"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// sampleLayout writes a two-platform index under "multi" and a single
// image under "single" into a new layout directory.
func sampleLayout(t testing.TB) (string, *IndexImage, *Image) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	var imgs []*Image
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		img, err := Build(Config{Platform: mustPlatform(t, p), Labels: map[string]string{"platform": p}},
			mustLayer(t, map[string]File{"/etc/os-release": {Data: []byte("ID=sample\n")}}),
			mustLayer(t, map[string]File{"/p": {Data: []byte(p)}}))
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
	single, err := Build(Config{Platform: mustPlatform(t, "linux/riscv64"), Entrypoint: []string{"/p"}, Annotations: map[string]string{"org.example": "yes"}},
		mustLayer(t, map[string]File{"/p": {Data: []byte("single")}}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteLayout(dir, "single", single); err != nil {
		t.Fatal(err)
	}
	return dir, idx, single
}

func openLayout(t testing.TB, p string) *Layout {
	t.Helper()
	l, err := OpenLayout(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func checkSample(t *testing.T, l *Layout) {
	t.Helper()
	if got := strings.Join(l.Refs(), ","); got != "multi,single" {
		t.Errorf("refs %q, want multi,single", got)
	}
	idx, err := l.FindIndex("multi")
	if err != nil {
		t.Fatal(err)
	}
	Check(t, idx, Platforms("linux/amd64", "linux/arm64"), ManifestCount(2), RefName("multi"),
		MediaType(ocispec.MediaTypeImageIndex),
		ForPlatform("linux/arm64", LayerCount(2), HasFile("/p", "linux/arm64"), Label("platform", "linux/arm64")))
	arm, err := l.Find(WithRef("multi"), WithPlatform("linux/aarch64"))
	if err != nil {
		t.Fatal(err)
	}
	Check(t, arm, Platform("linux/arm64"), LayerCount(2), HasFile("/etc/os-release", "ID=sample\n"),
		LayerMediaType(ocispec.MediaTypeImageLayerGzip), MediaType(ocispec.MediaTypeImageManifest))
	single, err := l.Find(WithRef("single"))
	if err != nil {
		t.Fatal(err)
	}
	Check(t, single, RefName("single"), Annotation("org.example", "yes"), Entrypoint("/p"), Platform("linux/riscv64"), HasFile("/p", "single"))
}

func TestLayoutDirectory(t *testing.T) {
	dir, idx, _ := sampleLayout(t)
	checkSample(t, openLayout(t, dir))
	// Writing the same index again under the same name replaces the entry.
	if _, err := WriteLayout(dir, "multi", idx); err != nil {
		t.Fatal(err)
	}
	if got := openLayout(t, dir).Refs(); len(got) != 2 {
		t.Errorf("refs after rewrite: %v", got)
	}
}

// tarDir packs dir into a tar (gzip-compressed when gz).
func tarDir(t testing.TB, dir, out string, gz bool) {
	t.Helper()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var w io.Writer = f
	if gz {
		zw := gzip.NewWriter(f)
		defer zw.Close()
		w = zw
	}
	tw := tar.NewWriter(w)
	defer tw.Close()
	if err := tw.AddFS(os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
}

func TestLayoutTar(t *testing.T) {
	dir, _, _ := sampleLayout(t)
	for _, gz := range []bool{false, true} {
		p := filepath.Join(t.TempDir(), "layout.tar")
		tarDir(t, dir, p, gz)
		checkSample(t, openLayout(t, p))
	}
}

// TestDockerArchive makes a docker save archive by hand (manifest.json,
// config, uncompressed layer.tar files) and reads it as a layout.
func TestDockerArchive(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, data []byte) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg})
		tw.Write(data)
	}
	layerTar := func(files map[string]string) []byte {
		var b bytes.Buffer
		w := tar.NewWriter(&b)
		for n, c := range files {
			w.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(c)), Typeflag: tar.TypeReg})
			w.Write([]byte(c))
		}
		w.Close()
		return b.Bytes()
	}
	l1 := layerTar(map[string]string{"etc/hostname": "docker\n", "etc/old": "old"})
	l2 := layerTar(map[string]string{"etc/.wh.old": ""})
	conf, _ := json.Marshal(ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"},
		Config: ocispec.ImageConfig{Labels: map[string]string{"from": "docker"}},
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromBytes(l1), digest.FromBytes(l2)}}})
	add("abc.json", conf)
	add("l1/layer.tar", l1)
	add("l2/layer.tar", l2)
	manifest, _ := json.Marshal([]map[string]any{{"Config": "abc.json", "RepoTags": []string{"example/app:1", "example/app:latest"}, "Layers": []string{"l1/layer.tar", "l2/layer.tar"}}})
	add("manifest.json", manifest)
	tw.Close()
	p := filepath.Join(t.TempDir(), "docker.tar")
	os.WriteFile(p, buf.Bytes(), 0o644)

	l := openLayout(t, p)
	if got := strings.Join(l.Refs(), ","); got != "example/app:1,example/app:latest" {
		t.Errorf("refs %q", got)
	}
	img, err := l.Find(WithRef("example/app:latest"), WithPlatform("linux/arm64"))
	if err != nil {
		t.Fatal(err)
	}
	Check(t, img, LayerCount(2), HasFile("/etc/hostname", "docker\n"), NoFile("/etc/old"), Label("from", "docker"),
		LayerMediaType(ocispec.MediaTypeImageLayer))
}

func TestBadInput(t *testing.T) {
	dir, _, _ := sampleLayout(t)
	tmp := t.TempDir()

	t.Run("missing layout", func(t *testing.T) {
		p := filepath.Join(tmp, "nope")
		_, err := OpenLayout(p)
		if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), p) {
			t.Errorf("OpenLayout(missing) = %v, want not-exist naming %s", err, p)
		}
		empty := t.TempDir()
		if _, err := OpenLayout(empty); err == nil || !strings.Contains(err.Error(), "not an OCI layout") {
			t.Errorf("OpenLayout(empty dir) = %v", err)
		}
	})
	t.Run("corrupt tar", func(t *testing.T) {
		good := filepath.Join(tmp, "good.tar")
		tarDir(t, dir, good, false)
		data, _ := os.ReadFile(good)
		for name, bad := range map[string][]byte{
			"truncated.tar": data[:700],
			"garbage.tar":   bytes.Repeat([]byte("not a tar "), 200),
			"gzjunk.tar":    append([]byte{0x1f, 0x8b}, bytes.Repeat([]byte{1}, 100)...),
		} {
			p := filepath.Join(tmp, name)
			os.WriteFile(p, bad, 0o644)
			if l, err := OpenLayout(p); err == nil {
				l.Close()
				t.Errorf("OpenLayout(%s) passed", name)
			} else if !strings.Contains(err.Error(), name) {
				t.Errorf("OpenLayout(%s) = %v: does not name the file", name, err)
			}
		}
	})
	t.Run("unknown platform", func(t *testing.T) {
		l := openLayout(t, dir)
		if _, err := l.Find(WithRef("multi"), WithPlatform("linux/sparc")); err == nil || !strings.Contains(err.Error(), `unknown architecture "sparc"`) {
			t.Errorf("Find(linux/sparc) = %v", err)
		}
		_, err := l.Find(WithRef("multi"), WithPlatform("linux/s390x"))
		if err == nil || !strings.Contains(err.Error(), "no manifest for platform linux/s390x (has linux/amd64, linux/arm64)") {
			t.Errorf("Find(linux/s390x) = %v", err)
		}
		if _, err := l.Find(WithRef("multi")); err == nil || !strings.Contains(err.Error(), "name a platform") {
			t.Errorf("Find(multi) without a platform = %v", err)
		}
		if _, err := l.Find(WithRef("nosuch")); err == nil || !strings.Contains(err.Error(), `no entry named "nosuch" (names: multi, single)`) {
			t.Errorf("Find(nosuch) = %v", err)
		}
	})
	t.Run("digest mismatch", func(t *testing.T) {
		tampered := filepath.Join(t.TempDir(), "layout")
		if err := os.CopyFS(tampered, os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
		l := openLayout(t, tampered)
		img, err := l.Find(WithRef("single"))
		if err != nil {
			t.Fatal(err)
		}
		layer := img.Manifest.Layers[0].Digest
		p := blobFile(tampered, layer.String())
		data, _ := os.ReadFile(p)
		os.Chmod(p, 0o644)
		// Same gzip stream, one byte of the trailer changed: only the
		// digest can tell.
		data[len(data)-1] ^= 0xff
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		img, err = l.Find(WithRef("single"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = img.ReadFile("/p")
		if err == nil || !strings.Contains(err.Error(), layer.String()) {
			t.Errorf("ReadFile from a tampered layer = %v, want an error naming %s", err, layer)
		}
		// A tampered manifest fails at Find.
		mp := blobFile(tampered, img.Descriptor.Digest.String())
		raw, _ := os.ReadFile(mp)
		os.WriteFile(mp, bytes.Replace(raw, []byte(`"org.example":"yes"`), []byte(`"org.example":"no!"`), 1), 0o644)
		_, err = l.Find(WithRef("single"))
		if err == nil || !strings.Contains(err.Error(), img.Descriptor.Digest.String()) || !strings.Contains(err.Error(), "tampered") {
			t.Errorf("Find with a tampered manifest = %v", err)
		}
	})
}

// TestStore reads a layout through containerd's content helpers, as
// BuildKit's session does, and checks that it refuses writes.
func TestStore(t *testing.T) {
	dir, idx, _ := sampleLayout(t)
	ctx := context.Background()
	for _, p := range []string{dir, filepath.Join(t.TempDir(), "l.tar")} {
		if p != dir {
			tarDir(t, dir, p, false)
		}
		l := openLayout(t, p)
		var s content.Store = l.Store()
		info, err := s.Info(ctx, idx.Descriptor.Digest)
		if err != nil || info.Size != idx.Descriptor.Size {
			t.Fatalf("%s: Info(index) = %+v, %v", p, info, err)
		}
		raw, err := content.ReadBlob(ctx, s, idx.Descriptor)
		if err != nil || !bytes.Equal(raw, idx.RawIndex()) {
			t.Errorf("%s: ReadBlob(index) = %d bytes, %v", p, len(raw), err)
		}
		for _, img := range idx.Images {
			for _, ld := range img.Manifest.Layers {
				ra, err := s.ReaderAt(ctx, ld)
				if err != nil {
					t.Fatal(err)
				}
				if ra.Size() != ld.Size {
					t.Errorf("layer %s: size %d, want %d", ld.Digest, ra.Size(), ld.Size)
				}
				ra.Close()
			}
		}
		n := 0
		if err := s.Walk(ctx, func(content.Info) error { n++; return nil }); err != nil || n != len(l.Digests()) || n < 8 {
			t.Errorf("%s: Walk saw %d blobs (%v), layout has %d", p, n, err, len(l.Digests()))
		}
		if _, err := s.Info(ctx, digest.Digest("sha256:"+strings.Repeat("0", 64))); !errdefs.IsNotFound(err) {
			t.Errorf("Info(absent) = %v, want not found", err)
		}
		if _, err := s.Writer(ctx, content.WithRef("x")); !errdefs.IsNotImplemented(err) || !strings.Contains(err.Error(), "read-only") {
			t.Errorf("Writer = %v, want a read-only not-implemented error", err)
		}
		if err := s.Delete(ctx, idx.Descriptor.Digest); !errdefs.IsNotImplemented(err) {
			t.Errorf("Delete = %v", err)
		}
	}
}

// TestLayoutArtifact reads the one entry of a layout as an index or an
// image, and refuses a layout of several entries naming them.
func TestLayoutArtifact(t *testing.T) {
	dir, idx, single := sampleLayout(t)
	if _, err := openLayout(t, dir).Artifact(); err == nil || !strings.Contains(err.Error(), "multi") || !strings.Contains(err.Error(), "single") {
		t.Errorf("a layout of two entries: err = %v, want one naming both", err)
	}
	for name, want := range map[string]Artifact{"index": idx, "image": single} {
		one := filepath.Join(t.TempDir(), name)
		if _, err := WriteLayout(one, name, want); err != nil {
			t.Fatal(err)
		}
		got, err := openLayout(t, one).Artifact()
		if err != nil {
			t.Fatal(err)
		}
		gd, _ := got.artifact()
		wd, _ := want.artifact()
		if gd.Digest != wd.Digest || gd.MediaType != wd.MediaType {
			t.Errorf("%s: read %s %s, want %s %s", name, gd.MediaType, gd.Digest, wd.MediaType, wd.Digest)
		}
	}
}
