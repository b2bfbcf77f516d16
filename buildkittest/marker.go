package buildkittest

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/opencontainers/go-digest"

	"github.com/matrixbox/matrixbox/matrix/platform"
	"github.com/matrixbox/matrixbox/ociimage"
	"github.com/matrixbox/matrixbox/sandbox"
)

// markerStoreName is the OCI store a [MarkerStore] is known to BuildKit as.
const markerStoreName = "markers"

// MarkerStore is the platform-marker route of a platform-selection test
// in one value: a multi-platform index whose manifest for each platform is
// the base image of that platform plus a file, /platform-marker, naming
// the platform; handed to BuildKit as an OCI store in place of a named
// context or of an image, so that an exported result shows which manifest
// BuildKit chose, without running any code of that platform.
type MarkerStore struct {
	store     content.Store
	index     digest.Digest
	want      platform.Platform
	platforms []string
}

// NewMarkerStore makes the marker index of base for the cell's platform
// and for every platform base has, writes it as an OCI layout in the
// sandbox, and returns it, ready to hand to [Dockerfile], [Solve] or
// [Build] with [MarkerStore.NamedContext] or [MarkerStore.SourcePolicy].
// Each platform's image is base's for it, or the nearest older variant's
// as BuildKit falls back (linux/amd64's serves linux/amd64/v3).
//
// base is an *ociimage.IndexImage, or an *ociimage.Image used for every
// platform: build one with ociimage.Index, or read the layout
// mirror.Shared().Recipe returns with ociimage.OpenLayout and
// [ociimage.Layout.Artifact].
func NewMarkerStore(t testing.TB, sb sandbox.Sandbox, base ociimage.Artifact) *MarkerStore {
	t.Helper()
	m, err := newMarkerStore(sb, base)
	if err != nil {
		t.Fatalf("buildkittest: marker store: %v", err)
	}
	return m
}

func newMarkerStore(sb sandbox.Sandbox, base ociimage.Artifact) (*MarkerStore, error) {
	want := platform.From(sb)
	plats := []string{platform.Format(want)}
	add := func(p platform.Platform) {
		if n, err := platform.Normalize(p); err == nil && n.OS != "unknown" && !platform.Same(n, want) {
			plats = append(plats, platform.Format(n))
		}
	}
	switch b := base.(type) {
	case *ociimage.IndexImage:
		if b != nil {
			for _, img := range b.Images {
				add(img.Config.Platform)
			}
		}
	case *ociimage.Image:
		if b != nil {
			add(b.Config.Platform)
		}
	}
	idx, err := ociimage.MarkerIndex(base, plats...)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(sb.TempDir(), "markers-")
	if err != nil {
		return nil, err
	}
	desc, err := ociimage.WriteLayout(dir, "markers", idx)
	if err != nil {
		return nil, err
	}
	l, err := ociimage.OpenLayout(dir)
	if err != nil {
		return nil, err
	}
	// A layout directory holds no open file between reads: nothing to
	// close at the end of the test.
	return &MarkerStore{store: l.Store(), index: desc.Digest, want: want, platforms: plats}, nil
}

// Platforms are the platforms of the index, the cell's first.
func (m *MarkerStore) Platforms() []string { return append([]string(nil), m.platforms...) }

// Index is the digest of the marker index in its store.
func (m *MarkerStore) Index() digest.Digest { return m.index }

// NamedContext replaces the named context name of the build (a
// Dockerfile's "FROM name", a frontend's own context) with the marker
// index: the store as SolveOpt.OCIStores and the frontend option
// context:<name>=oci-layout://markers@<digest>. BuildKit takes named
// contexts from an OCI store only on workers with
// workers.FeatureOCILayout.
func (m *MarkerStore) NamedContext(name string) Option {
	k, v := ociimage.NamedContext(name, markerStoreName, m.index)
	return func(s *settings) {
		s.stores[ociimage.StoreID(markerStoreName)] = m.store
		s.attrs[k] = v
	}
}

// SourcePolicy replaces the image ref (every tag and digest of it when it
// names neither, e.g. "busybox") with the marker index wherever the build
// uses it, through a source policy (see [SourcePolicy]).
func (m *MarkerStore) SourcePolicy(ref string) Option {
	pol, err := SourcePolicy(ref, markerStoreName, m.index, "")
	return func(s *settings) {
		if err != nil {
			s.errs = append(s.errs, err)
			return
		}
		s.stores[ociimage.StoreID(markerStoreName)] = m.store
		s.rules = append(s.rules, pol.Rules...)
	}
}

// Check checks that dir, the exported result of a build from the marker
// index, is the cell's platform's image: its /platform-marker names the
// platform, and (where dir has one) the ELF executable at bin/sh, bin/busybox
// or usr/bin/env is built for the platform's machine, so the base bytes,
// not a label alone, are that platform's. It fails t with every mismatch
// and reports whether dir passed.
func (m *MarkerStore) Check(t testing.TB, dir string) bool {
	t.Helper()
	want := platform.Format(m.want)
	var bad []string
	got, err := os.ReadFile(filepath.Join(dir, ociimage.MarkerPath))
	switch {
	case err != nil:
		bad = append(bad, fmt.Sprintf("the result has no %s, so the marker index was not used: %v", ociimage.MarkerPath, err))
	case string(got) != want:
		bad = append(bad, fmt.Sprintf("%s = %q, want %q: BuildKit chose another platform's manifest", ociimage.MarkerPath, got, want))
	}
	if msg := checkELF(dir, m.want); msg != "" {
		bad = append(bad, msg)
	}
	if len(bad) > 0 {
		t.Errorf("buildkittest: the result in %s is not the %s image:\n\t%s", dir, want, strings.Join(bad, "\n\t"))
		return false
	}
	return true
}

// elfMachines are the ELF machines of the architectures whose images a
// marker test inspects.
var elfMachines = map[string]elf.Machine{
	"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "arm": elf.EM_ARM, "386": elf.EM_386,
	"ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390, "riscv64": elf.EM_RISCV,
}

// checkELF returns what is wrong with the machine of the first ELF
// executable of dir, "" when it is right or there is none.
func checkELF(dir string, p platform.Platform) string {
	want, ok := elfMachines[p.Architecture]
	if !ok {
		return ""
	}
	for _, rel := range []string{"bin/sh", "bin/busybox", "usr/bin/env"} {
		path, err := insideLink(dir, rel)
		if err != nil {
			continue
		}
		f, err := elf.Open(path)
		if err != nil {
			continue
		}
		machine := f.Machine
		f.Close()
		if machine != want {
			return fmt.Sprintf("/%s is built for %v, want %v", rel, machine, want)
		}
		return ""
	}
	return ""
}

// insideLink resolves rel under root, following one symlink as the image
// would (an absolute target is taken from root, not from the host).
func insideLink(root, rel string) (string, error) {
	p := filepath.Join(root, rel)
	fi, err := os.Lstat(p)
	if err != nil {
		return "", err
	}
	if fi.Mode()&os.ModeSymlink == 0 {
		return p, nil
	}
	target, err := os.Readlink(p)
	if err != nil {
		return "", err
	}
	if filepath.IsAbs(target) {
		p = filepath.Join(root, target)
	} else {
		p = filepath.Join(filepath.Dir(p), target)
	}
	if rel, err := filepath.Rel(root, p); err != nil || !filepath.IsLocal(rel) {
		return "", errors.New("link leaves the result")
	}
	return p, nil
}
