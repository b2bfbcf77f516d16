package mirror

import (
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/matrixbox/matrixbox/ociimage"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// layoutSource is an OCI layout (directory or tar) or a docker-archive tar,
// optionally narrowed to one index.json entry by ref name or digest.
type layoutSource struct {
	raw, path, ref string
}

func parseLayoutSource(s string) (source, error) {
	rest := strings.TrimPrefix(s, SchemeOCILayout)
	src := layoutSource{raw: s, path: rest}
	if i := strings.LastIndex(rest, "@"); i >= 0 && !strings.Contains(rest[i:], "/") {
		src.path, src.ref = rest[:i], rest[i+1:]
	}
	if src.path == "" {
		return nil, fmt.Errorf("source %q: no layout path", s)
	}
	return src, nil
}

func parseArchiveSource(s string) (source, error) {
	p := strings.TrimPrefix(s, SchemeDockerArchive)
	if p == "" {
		return nil, fmt.Errorf("source %q: no archive path", s)
	}
	return layoutSource{raw: s, path: p}, nil
}

func (s layoutSource) String() string { return s.raw }

// fingerprint is the root digest: a layout rewritten in place is copied
// again. Reading index.json (or a tar's table) is cheap next to a copy.
func (s layoutSource) fingerprint(ctx context.Context) (string, error) {
	r, err := s.resolve(ctx, nil)
	if err != nil {
		return "", err
	}
	defer r.close()
	return r.desc.Digest.String(), nil
}

func (s layoutSource) resolve(_ context.Context, _ *Mirror) (resolved, error) {
	l, err := ociimage.OpenLayout(s.path)
	if err != nil {
		return resolved{}, fmt.Errorf("source %s: %w", s.raw, err)
	}
	desc, err := rootEntry(l, s.ref)
	if err != nil {
		l.Close()
		return resolved{}, fmt.Errorf("source %s: %w", s.raw, err)
	}
	return resolved{desc: desc, provider: l.Store(), close: l.Close}, nil
}

// rootEntry picks the index.json entry named ref (a ref name or a digest),
// or the only entry when ref is empty. A multi-platform entry stays whole.
func rootEntry(l *ociimage.Layout, ref string) (ocispec.Descriptor, error) {
	entries := l.Root().Manifests
	var found []ocispec.Descriptor
	for _, e := range entries {
		if ref == "" || e.Annotations[ocispec.AnnotationRefName] == ref || e.Digest.String() == ref {
			found = append(found, e)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case ref == "" && len(found) == 0:
		return ocispec.Descriptor{}, fmt.Errorf("layout %s lists no image", l.Path())
	case ref == "":
		return ocispec.Descriptor{}, fmt.Errorf("layout %s lists %d images (refs %q): name one with @REF", l.Path(), len(found), l.Refs())
	case len(found) == 0:
		if d, err := digest.Parse(ref); err == nil {
			return ocispec.Descriptor{}, fmt.Errorf("layout %s has no index entry %s", l.Path(), d)
		}
		return ocispec.Descriptor{}, fmt.Errorf("layout %s has no ref %q (refs: %q)", l.Path(), ref, l.Refs())
	default:
		return ocispec.Descriptor{}, fmt.Errorf("layout %s has %d entries named %q", l.Path(), len(found), ref)
	}
}

// builtSource is an image the mirror builds from local files (rootfs:,
// binary:), written to a scratch layout in the mirror directory.
type builtSource struct {
	raw, path string
	build     func(path string) (*ociimage.Image, error)
}

func parseRootfsSource(s string) (source, error) {
	p := strings.TrimPrefix(s, SchemeRootfs)
	if p == "" {
		return nil, fmt.Errorf("source %q: no directory", s)
	}
	return builtSource{raw: s, path: p, build: buildRootfs}, nil
}

func parseBinarySource(s string) (source, error) {
	p := strings.TrimPrefix(s, SchemeBinary)
	if p == "" {
		return nil, fmt.Errorf("source %q: no binary path", s)
	}
	return builtSource{raw: s, path: p, build: buildBinary}, nil
}

func (s builtSource) String() string { return s.raw }

// fingerprint walks the tree's metadata (path, mode, size, mtime): a change
// to any file makes a new copy, without tarring anything.
func (s builtSource) fingerprint(context.Context) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(s.path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%v\x00%d\x00%d\n", p, fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("source %s: %w", s.raw, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

func (s builtSource) resolve(ctx context.Context, m *Mirror) (resolved, error) {
	img, err := s.build(s.path)
	if err != nil {
		return resolved{}, fmt.Errorf("source %s: %w", s.raw, err)
	}
	return m.scratchLayout(img, s.raw)
}

// scratchLayout writes img to a layout of its own under the mirror's
// directory and serves it from there; close removes it.
func (m *Mirror) scratchLayout(img ociimage.Artifact, what string) (resolved, error) {
	dir, err := os.MkdirTemp(m.recipesDir(), tempPattern(".scratch-"))
	if err != nil {
		return resolved{}, fmt.Errorf("source %s: %w", what, err)
	}
	fail := func(err error) (resolved, error) {
		os.RemoveAll(dir)
		return resolved{}, fmt.Errorf("source %s: %w", what, err)
	}
	if _, err := ociimage.WriteLayout(dir, "image", img); err != nil {
		return fail(err)
	}
	l, err := ociimage.OpenLayout(dir)
	if err != nil {
		return fail(err)
	}
	desc, err := rootEntry(l, "image")
	if err != nil {
		l.Close()
		return fail(err)
	}
	return resolved{desc: desc, provider: l.Store(), close: func() error {
		return joinErr(l.Close(), os.RemoveAll(dir))
	}}, nil
}

func buildRootfs(dir string) (*ociimage.Image, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	l, err := ociimage.LayerFromDir(dir)
	if err != nil {
		return nil, err
	}
	return ociimage.Build(ociimage.Config{Platform: ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}}, l)
}

// buildBinary makes an image holding only the binary, as /NAME, its
// entrypoint; the platform is read from the ELF header.
func buildBinary(path string) (*ociimage.Image, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p := ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if f, err := elf.Open(path); err == nil {
		if arch := elfArch(f.Machine); arch != "" {
			p.Architecture = arch
		}
		f.Close()
	} else {
		return nil, fmt.Errorf("%s is not an ELF binary: %w", path, err)
	}
	name := "/" + filepath.Base(path)
	l, err := ociimage.LayerFromFiles(map[string]ociimage.File{name: {Data: data, Mode: 0o755}})
	if err != nil {
		return nil, err
	}
	return ociimage.Build(ociimage.Config{Platform: p, Entrypoint: []string{name}}, l)
}

func elfArch(m elf.Machine) string {
	switch m {
	case elf.EM_X86_64:
		return "amd64"
	case elf.EM_AARCH64:
		return "arm64"
	case elf.EM_386:
		return "386"
	case elf.EM_ARM:
		return "arm"
	case elf.EM_RISCV:
		return "riscv64"
	case elf.EM_PPC64:
		return "ppc64le"
	case elf.EM_S390:
		return "s390x"
	}
	return ""
}
