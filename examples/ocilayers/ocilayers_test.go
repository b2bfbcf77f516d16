package ocilayers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/integration"
	"github.com/matrixbox/matrixbox/matrix/platform"
	"github.com/matrixbox/matrixbox/ociimage"
	"github.com/matrixbox/matrixbox/sandbox"
	"github.com/matrixbox/matrixbox/workers"
	"github.com/opencontainers/go-digest"
)

func TestOCILayers(t *testing.T) {
	integration.Run(t, integration.TestFuncs(testMultiLayer, testSingleLayer, testBaseAndApp, testLayerCache),
		integration.WithWorkers(workers.Host()))
}

// The layers' content: base and app from files, shell from a package.
var (
	baseFiles = map[string]ociimage.File{
		"/etc/os-release": {Data: []byte("ID=matrixbox\nNAME=\"matrixbox ocilayers\"\n")},
		"/etc/passwd":     {Data: []byte("root:x:0:0:root:/root:/bin/sh\n")},
		"/tmp":            {Mode: fs.ModeDir | fs.ModeSticky | 0o777},
	}
	appFiles = map[string]ociimage.File{
		"/app/run.sh":      {Data: []byte("#!/bin/busybox sh\necho app\n"), Mode: 0o755},
		"/etc/app/app.cfg": {Data: []byte("mode=demo\n")},
	}
	shellPackages = []string{"busybox-static"}
)

// builder makes the scenario's layers through a cache and logs each
// lookup to the sandbox (shown when the test fails) and to lines.
type builder struct {
	cache *Cache
	arch  string
	shell []Package
	lines []string
}

func newBuilder(t *testing.T, sb sandbox.Sandbox, cacheDir string) *builder {
	t.Helper()
	var pkgs []Package
	for _, deb := range aptDownload(t, sb.TempDir(), shellPackages...) {
		p, err := DebPackage(deb)
		if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	buf := sb.Logs().Writer("layer-cache")
	b := &builder{arch: pkgs[0].Arch, shell: pkgs}
	b.cache = &Cache{Dir: cacheDir, Log: func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		b.lines = append(b.lines, line)
		fmt.Fprintln(buf, line)
	}}
	return b
}

func filesKey(files map[string]ociimage.File) string {
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	d := digest.Canonical.Digester()
	for _, n := range names {
		fmt.Fprintf(d.Hash(), "%s %v %q %q\n", n, files[n].Mode, files[n].Link, files[n].Data)
	}
	return d.Digest().String()
}

func (b *builder) base() (ociimage.Layer, error) {
	l, _, err := b.cache.Layer("base", Key("base", b.arch, nil, filesKey(baseFiles)), func() (ociimage.Layer, error) {
		return ociimage.LayerFromFiles(baseFiles)
	})
	return l, err
}

func (b *builder) shellLayer() (ociimage.Layer, error) {
	var debs []string
	for _, p := range b.shell {
		debs = append(debs, p.Path)
	}
	l, _, err := b.cache.Layer("shell", Key("shell", b.arch, b.shell, ""), func() (ociimage.Layer, error) {
		return ociimage.LayerFromDebs(debs...)
	})
	return l, err
}

func (b *builder) app() (ociimage.Layer, error) {
	l, _, err := b.cache.Layer("app", Key("app", b.arch, nil, filesKey(appFiles)), func() (ociimage.Layer, error) {
		return ociimage.LayerFromFiles(appFiles)
	})
	return l, err
}

func (b *builder) config(name string) ociimage.Config {
	p, err := platform.Parse("linux/" + b.arch)
	if err != nil {
		p.OS, p.Architecture = "linux", b.arch
	}
	return ociimage.Config{Platform: p, Entrypoint: []string{"/app/run.sh"}, Env: []string{"PATH=/bin:/usr/bin"},
		Labels: map[string]string{"org.opencontainers.image.title": name}}
}

// multiLayer is app-container-multilayer: base, shell, app.
func (b *builder) multiLayer() (*ociimage.Image, error) {
	var layers []ociimage.Layer
	for _, f := range []func() (ociimage.Layer, error){b.base, b.shellLayer, b.app} {
		l, err := f()
		if err != nil {
			return nil, err
		}
		layers = append(layers, l)
	}
	return ociimage.Build(b.config("app-container-multilayer"), layers...)
}

func writeAndReopen(t *testing.T, dir, ref string, img *ociimage.Image) *ociimage.Image {
	t.Helper()
	if _, err := ociimage.WriteLayout(dir, ref, img); err != nil {
		t.Fatal(err)
	}
	l, err := ociimage.OpenLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	got, err := l.Find(ociimage.WithRef(ref))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// layerCountByHand counts the layers of ref in a layout without package
// ociimage: index.json and the manifest read as plain JSON.
func layerCountByHand(t *testing.T, dir, ref string) int {
	t.Helper()
	var index struct {
		Manifests []struct {
			Digest      string
			Annotations map[string]string
		}
	}
	readJSON(t, filepath.Join(dir, "index.json"), &index)
	for _, m := range index.Manifests {
		if m.Annotations["org.opencontainers.image.ref.name"] != ref {
			continue
		}
		var manifest struct{ Layers []json.RawMessage }
		algo, hex, _ := strings.Cut(m.Digest, ":")
		readJSON(t, filepath.Join(dir, "blobs", algo, hex), &manifest)
		return len(manifest.Layers)
	}
	t.Fatalf("%s: no entry named %s", dir, ref)
	return 0
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// commonFiles are true of every variant of the image.
func commonFiles() []ociimage.Assertion {
	return []ociimage.Assertion{
		ociimage.FileContains("/etc/os-release", "ID=matrixbox"),
		ociimage.FileContains("/bin/busybox", "\x7fELF"),
		ociimage.FileMode("/bin/busybox", 0o755),
		ociimage.HasFile("/app/run.sh", "#!/bin/busybox sh\necho app\n"),
		ociimage.FileMode("/tmp", fs.ModeDir|fs.ModeSticky|0o777),
		ociimage.Entrypoint("/app/run.sh"),
	}
}

func testMultiLayer(t *testing.T, sb sandbox.Sandbox) {
	b := newBuilder(t, sb, filepath.Join(sb.TempDir(), "cache"))
	img, err := b.multiLayer()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(sb.TempDir(), "app-container-multilayer-oci")
	got := writeAndReopen(t, dir, "latest", img)
	ociimage.Check(t, got, append(commonFiles(),
		ociimage.LayerCount(3),
		ociimage.RefName("latest"),
		ociimage.Label("org.opencontainers.image.title", "app-container-multilayer"),
		ociimage.Platform("linux/"+b.arch),
		ociimage.LayerMediaType("application/vnd.oci.image.layer.v1.tar+gzip"),
	)...)
	if n := layerCountByHand(t, dir, "latest"); n != 3 {
		t.Errorf("index.json and manifest read by hand: %d layers, want 3", n)
	}
	// Each layer holds its own part only.
	for n, want := range []string{"/etc/os-release", "/bin/busybox", "/app/run.sh"} {
		f, err := got.Stat(want)
		if err != nil || f.Layer != n {
			t.Errorf("%s: from layer %d (%v), want layer %d", want, f.Layer, err, n)
		}
	}
}

func testSingleLayer(t *testing.T, sb sandbox.Sandbox) {
	b := newBuilder(t, sb, filepath.Join(sb.TempDir(), "cache"))
	multi, err := b.multiLayer()
	if err != nil {
		t.Fatal(err)
	}
	flat, err := multi.Squash()
	if err != nil {
		t.Fatal(err)
	}
	img, err := ociimage.Build(b.config("app-container"), flat)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(sb.TempDir(), "app-container-oci")
	got := writeAndReopen(t, dir, "latest", img)
	ociimage.Check(t, got, append(commonFiles(), ociimage.LayerCount(1), ociimage.Label("org.opencontainers.image.title", "app-container"))...)
	if n := layerCountByHand(t, dir, "latest"); n != 1 {
		t.Errorf("read by hand: %d layers, want 1", n)
	}
}

// testBaseAndApp is app-container-layered: a stored base image (base and
// shell squashed into one layer) plus the app layer.
func testBaseAndApp(t *testing.T, sb sandbox.Sandbox) {
	b := newBuilder(t, sb, filepath.Join(sb.TempDir(), "cache"))
	base, err := b.base()
	if err != nil {
		t.Fatal(err)
	}
	shell, err := b.shellLayer()
	if err != nil {
		t.Fatal(err)
	}
	twoLayer, err := ociimage.Build(b.config("container-base"), base, shell)
	if err != nil {
		t.Fatal(err)
	}
	flat, err := twoLayer.Squash()
	if err != nil {
		t.Fatal(err)
	}
	baseImg, err := ociimage.Build(b.config("container-base"), flat)
	if err != nil {
		t.Fatal(err)
	}
	baseDir := filepath.Join(sb.TempDir(), "container-base-oci")
	storedBase := writeAndReopen(t, baseDir, "latest", baseImg)
	ociimage.Check(t, storedBase, ociimage.LayerCount(1), ociimage.FileMode("/bin/busybox", 0o755), ociimage.NoFile("/app/run.sh"))

	app, err := b.app()
	if err != nil {
		t.Fatal(err)
	}
	layered, err := ociimage.Build(b.config("app-container-layered"), append(storedBase.Layers(), app)...)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(sb.TempDir(), "app-container-layered-oci")
	got := writeAndReopen(t, dir, "latest", layered)
	ociimage.Check(t, got, append(commonFiles(),
		ociimage.LayerCount(2),
		ociimage.LayerDigests(storedBase.Manifest.Layers[0].Digest.String(), app.Digest.String()),
	)...)
	if n := layerCountByHand(t, dir, "latest"); n != 2 {
		t.Errorf("read by hand: %d layers, want 2", n)
	}
}

func count(lines []string, s string) int {
	n := 0
	for _, l := range lines {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

func testLayerCache(t *testing.T, sb sandbox.Sandbox) {
	cacheDir := filepath.Join(sb.TempDir(), "oci-layer-cache")
	b := newBuilder(t, sb, cacheDir)
	first, err := b.multiLayer()
	if err != nil {
		t.Fatal(err)
	}
	if h, m := count(b.lines, "OCI Cache HIT"), count(b.lines, "OCI Cache MISS"); h != 0 || m != 3 {
		t.Errorf("first build: %d hits, %d misses, want 0 and 3:\n%s", h, m, strings.Join(b.lines, "\n"))
	}

	// A second build, by a fresh builder on the same directory as a new
	// process would: every layer comes from the cache.
	b2 := newBuilder(t, sb, cacheDir)
	second, err := b2.multiLayer()
	if err != nil {
		t.Fatal(err)
	}
	if h, m := count(b2.lines, "OCI Cache HIT"), count(b2.lines, "OCI Cache MISS"); h != 3 || m != 0 {
		t.Errorf("second build: %d hits, %d misses, want 3 and 0:\n%s", h, m, strings.Join(b2.lines, "\n"))
	}
	if first.Descriptor.Digest != second.Descriptor.Digest {
		t.Errorf("cached build gives manifest %s, fresh one %s", second.Descriptor.Digest, first.Descriptor.Digest)
	}

	// One package version changes: its layer misses, the others hit.
	b3 := newBuilder(t, sb, cacheDir)
	b3.shell[0].Version += "+matrixbox1"
	if _, err := b3.multiLayer(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(b3.lines, "\n"); count(b3.lines, "OCI Cache MISS: shell") != 1 ||
		count(b3.lines, "OCI Cache HIT: base") != 1 || count(b3.lines, "OCI Cache HIT: app") != 1 {
		t.Errorf("after a version bump of %s, want shell MISS and base, app HIT:\n%s", b3.shell[0].Name, got)
	}

	// The cache directory: one entry per key, each with its marker.
	entries, err := os.ReadDir(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		raw, err := os.ReadFile(filepath.Join(cacheDir, e.Name(), markerFile))
		if err != nil {
			t.Errorf("entry %s: %v", e.Name(), err)
			continue
		}
		for _, field := range []string{"cache_key=", "layer_name=", "created="} {
			if !strings.Contains(string(raw), field) {
				t.Errorf("entry %s: marker lacks %s", e.Name(), field)
			}
		}
	}
	if len(names) != 4 || count(names, "-base") != 1 || count(names, "-shell") != 2 || count(names, "-app") != 1 {
		t.Errorf("cache entries %v, want base, app and two shell", names)
	}
}

// aptDownload fetches packages of this machine's Debian release into dir,
// skipping the test, naming the packages, when apt cannot.
func aptDownload(t *testing.T, dir string, pkgs ...string) []string {
	t.Helper()
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skipf("apt-get not found: cannot download %s", strings.Join(pkgs, " "))
	}
	dl := filepath.Join(dir, "debs")
	if err := os.MkdirAll(dl, 0o755); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range pkgs {
		matches, _ := filepath.Glob(filepath.Join(dl, p+"_*.deb"))
		if len(matches) == 0 {
			cmd := exec.Command("apt-get", "download", "-q", p)
			cmd.Dir = dl
			if msg, err := cmd.CombinedOutput(); err != nil {
				t.Skipf("apt-get download %s failed (%v); install apt sources for it: %s", p, err, bytes.TrimSpace(msg))
			}
			matches, _ = filepath.Glob(filepath.Join(dl, p+"_*.deb"))
		}
		if len(matches) != 1 {
			t.Skipf("apt-get download %s gave %d files", p, len(matches))
		}
		out = append(out, matches[0])
	}
	return out
}
