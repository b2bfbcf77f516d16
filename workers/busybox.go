package workers

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// hostBusybox is where the static busybox the offline image is made from
// lives (Debian's busybox-static).
const hostBusybox = "/bin/busybox"

// busyboxImageName is the name the offline busybox carries in its archive
// (the org.opencontainers.image.ref.name annotation is its tag).
const busyboxImageName = "docker.io/matrixbox/busybox:offline"

func checkStaticBusybox() error {
	f, err := elf.Open(hostBusybox)
	if err != nil {
		return fmt.Errorf("%s: %v: apt-get install busybox-static", hostBusybox, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked and cannot run in an empty image: apt-get install busybox-static", hostBusybox)
		}
	}
	return nil
}

// writeBusyboxArchive writes to w an OCI image archive (a tar of an OCI
// layout) of a one-layer image for the host's platform holding the host's
// static busybox with a link per applet in /bin: an image that needs no
// registry. It returns the descriptor of the image manifest.
func writeBusyboxArchive(w io.Writer) (ocispec.Descriptor, error) {
	if err := checkStaticBusybox(); err != nil {
		return ocispec.Descriptor{}, err
	}
	layer, err := busyboxLayer()
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	plat := ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}
	created := time.Unix(0, 0).UTC()
	config, err := json.Marshal(ocispec.Image{
		Created:  &created,
		Platform: plat,
		Config: ocispec.ImageConfig{
			Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			Cmd: []string{"sh"},
		},
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromBytes(layer)}},
	})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	layerDesc := blobDesc(ocispec.MediaTypeImageLayer, layer)
	configDesc := blobDesc(ocispec.MediaTypeImageConfig, config)
	manifest, err := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    configDesc,
		Layers:    []ocispec.Descriptor{layerDesc},
	})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	mdesc := blobDesc(ocispec.MediaTypeImageManifest, manifest)
	mdesc.Platform = &plat
	indexDesc := mdesc
	indexDesc.Annotations = map[string]string{
		ocispec.AnnotationRefName:  "offline",
		"io.containerd.image.name": busyboxImageName,
	}
	index, err := json.Marshal(ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{indexDesc},
	})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	layout, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	tw := tar.NewWriter(w)
	files := []struct {
		name string
		data []byte
	}{
		{ocispec.ImageLayoutFile, layout},
		{ocispec.ImageIndexFile, index},
		{blobPath(layerDesc), layer},
		{blobPath(configDesc), config},
		{blobPath(mdesc), manifest},
	}
	for _, dir := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: created}); err != nil {
			return ocispec.Descriptor{}, err
		}
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: 0o644, Size: int64(len(f.data)), ModTime: created}); err != nil {
			return ocispec.Descriptor{}, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return ocispec.Descriptor{}, err
		}
	}
	if err := tw.Close(); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("write busybox archive: %w", err)
	}
	return mdesc, nil
}

func blobDesc(mediaType string, b []byte) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(b), Size: int64(len(b))}
}

func blobPath(d ocispec.Descriptor) string {
	return "blobs/" + d.Digest.Algorithm().String() + "/" + d.Digest.Encoded()
}

// busyboxLayer is an uncompressed layer tar: the directories a container
// runtime expects, busybox, its applet links, and a root user.
func busyboxLayer() ([]byte, error) {
	bin, err := os.ReadFile(hostBusybox)
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(hostBusybox, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %w", hostBusybox, err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(0, 0).UTC()
	for _, d := range []string{"bin", "dev", "etc", "proc", "root", "sys", "tmp", "usr", "usr/bin", "var"} {
		mode := int64(0o755)
		if d == "tmp" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: mode, ModTime: mtime}); err != nil {
			return nil, err
		}
	}
	reg := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: mtime}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := reg("bin/busybox", 0o755, bin); err != nil {
		return nil, err
	}
	if err := reg("etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\n")); err != nil {
		return nil, err
	}
	if err := reg("etc/group", 0o644, []byte("root:x:0:\n")); err != nil {
		return nil, err
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet == "busybox" || strings.ContainsRune(applet, '/') {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + applet, Linkname: "busybox", ModTime: mtime}); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// shortHash names a container after a sandbox directory.
func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return fmt.Sprintf("%x", h[:6])
}
