package mirror

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/matrixbox/matrixbox/matrix/platform"
	"github.com/matrixbox/matrixbox/ociimage"
)

// recipeSource builds an image offline from Debian packages:
//
//	recipe:busybox[?arch=amd64,arm64&suite=bookworm&libc=glibc|musl]
//	recipe:alpine[?suite=bookworm]
//	recipe:debian:11|12|13[?packages=qemu-utils,...&arch=amd64]
//
// busybox is compiled from the suite's busybox source package, for
// linux/amd64 and linux/arm64 by default, into the tree of the official
// busybox image (see buildBusybox); with libc=musl it is linked against
// the suite's musl instead of glibc, as the official busybox:stable-musl.
// alpine is that musl busybox in Alpine's tree (see buildAlpine), for
// linux/amd64 and linux/arm64 by default too. debian defaults to the
// host's architecture (debootstrap --variant=minbase). The result is a
// multi-platform index, cached in the mirror directory under a key over
// (recipe, suite, architectures, packages) and reused by every later
// process; a process that finds another building it waits for that build.
type recipeSource struct {
	raw      string
	kind     string // "busybox", "alpine" or "debian"
	suite    string
	libc     string // busybox's C library: "" (glibc) or "musl"; alpine's is musl
	version  string // Debian version for debian recipes: "12"
	archs    []string
	packages []string
}

// debianSuites maps the Debian versions a recipe may name to their suites.
var debianSuites = map[string]string{"11": "bullseye", "12": "bookworm", "13": "trixie"}

// recipeVersions, by recipe kind, are part of every cache key: bump a
// kind's when its output changes for the same inputs, and only that kind's
// caches are built again. busybox 2: compiled from source into the official
// image's tree (1 was Debian's busybox-static). busybox 3, debian 2: the
// image history names ociimage.Build (the toolkit's package was image).
// busybox?libc=musl 2, alpine 2: Debian's musl for both architectures, not
// the host's musl-tools for the host's alone. busybox 4, busybox?libc=musl
// 3, debian 3, alpine 3: the image's CMD is a history entry of its own, as
// in Docker Hub's images.
var recipeVersions = map[string]int{"busybox": 4, "busybox?libc=musl": 3, "debian": 3, "alpine": 3}

// busyboxBuildVersion is part of the key of recipe:busybox's compiled
// binaries in the build cache: bump it when the compile's output changes
// for the same inputs (2: the binaries of busybox recipe 2 and 3).
const busyboxBuildVersion = 2

// recipeBuildLimit bounds one recipe build: busybox compiled for two
// architectures needs about 5 minutes of CPU but took 44 minutes, and more
// than 45 in another attempt, on two cores shared with other builds (load
// 15 to 29); debootstrap of a foreign architecture under qemu is slow too.
// A process waiting for another's build waits this long, or the mirror's
// lock timeout if that is longer.
const recipeBuildLimit = 2 * time.Hour

func parseRecipe(s string) (source, error) {
	body, query, _ := strings.Cut(strings.TrimPrefix(s, SchemeRecipe), "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("source %q: %w", s, err)
	}
	r := recipeSource{raw: s}
	list := func(key string) []string {
		var out []string
		for _, v := range q[key] {
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	r.archs, r.packages = list("arch"), list("packages")
	for k := range q {
		if k != "arch" && k != "packages" && k != "suite" && k != "libc" {
			return nil, fmt.Errorf("source %q: unknown parameter %q (want arch, packages, suite, libc)", s, k)
		}
	}
	if q.Has("libc") && body != "busybox" {
		return nil, fmt.Errorf("source %q: only recipe:busybox takes libc", s)
	}
	switch {
	case body == "busybox", body == "alpine":
		r.kind, r.suite = body, "bookworm"
		if v := q.Get("suite"); v != "" {
			r.suite = v
		}
		switch libc := q.Get("libc"); {
		case body == "alpine":
			r.libc = "musl"
		case libc == "musl":
			r.libc = libc
		case libc != "" && libc != "glibc":
			return nil, fmt.Errorf("source %q: unknown libc %q (want glibc or musl)", s, libc)
		}
		if len(r.archs) == 0 {
			r.archs = []string{"amd64", "arm64"}
		}
		if len(r.packages) > 0 {
			return nil, fmt.Errorf("source %q: recipe:%s takes no packages", s, body)
		}
	case strings.HasPrefix(body, "debian:"):
		r.kind, r.version = "debian", strings.TrimPrefix(body, "debian:")
		r.suite = debianSuites[r.version]
		if r.suite == "" {
			return nil, fmt.Errorf("source %q: unknown Debian version %q (want 11, 12 or 13)", s, r.version)
		}
		if len(r.archs) == 0 {
			r.archs = []string{hostDebArch()}
		}
	default:
		return nil, fmt.Errorf("source %q: unknown recipe %q (want busybox, alpine or debian:11|12|13)", s, body)
	}
	for _, a := range r.archs {
		if _, err := platform.Parse("linux/" + a); err != nil || strings.Contains(a, "/") {
			return nil, fmt.Errorf("source %q: unknown architecture %q", s, a)
		}
	}
	if r.kind == "busybox" || r.kind == "alpine" {
		for _, a := range r.archs {
			if _, err := busyboxTargetFor(a, r.libc); err != nil {
				return nil, fmt.Errorf("source %q: %w", s, err)
			}
		}
	}
	return r, nil
}

func (r recipeSource) String() string { return r.raw }

// versionKey is the recipe's entry in recipeVersions: its kind, and its C
// library where that is a parameter.
func (r recipeSource) versionKey() string {
	if r.kind == "busybox" && r.libc != "" {
		return r.kind + "?libc=" + r.libc
	}
	return r.kind
}

// fingerprint is the recipe's cache key, so an image that an earlier
// recipe version put in a mirror directory is copied again from the new
// build.
func (r recipeSource) fingerprint(context.Context) (string, error) { return r.key(), nil }

// key names the cached output: same inputs, same key, in any process.
func (r recipeSource) key() string {
	b, _ := json.Marshal(struct {
		V        int
		Kind     string
		Suite    string
		Archs    []string
		Packages []string
		Libc     string `json:",omitempty"`
	}{recipeVersions[r.versionKey()], r.kind, r.suite, r.archs, r.packages, r.libc})
	sum := sha256.Sum256(b)
	return r.kind + "-" + r.suite + "-" + hex.EncodeToString(sum[:8])
}

func (r recipeSource) resolve(ctx context.Context, m *Mirror) (resolved, error) {
	dir, err := m.Recipe(ctx, r.raw)
	if err != nil {
		return resolved{}, err
	}
	return layoutSource{raw: r.raw, path: dir, ref: "image"}.resolve(ctx, m)
}

// Recipe builds (or finds cached) the image of a recipe source such as
// "recipe:busybox" and returns the OCI layout directory holding it under
// the ref name "image". The layout is complete when returned and never
// changes afterwards.
func (m *Mirror) Recipe(ctx context.Context, src string) (string, error) {
	s, err := parseRecipe(src)
	if err != nil {
		return "", err
	}
	r := s.(recipeSource)
	if m.Dir() == "" {
		if _, err := m.Start(ctx); err != nil {
			return "", err
		}
	}
	root := m.recipesDir()
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	final := filepath.Join(root, r.key())
	if _, err := os.Stat(filepath.Join(final, "index.json")); err == nil {
		return final, nil
	}
	lock, err := lockFile(ctx, final+".lock", max(m.lockTimeout, recipeBuildLimit), "building "+src)
	if err != nil {
		return "", fmt.Errorf("source %s: %w", src, err)
	}
	defer lock.unlock()
	if _, err := os.Stat(filepath.Join(final, "index.json")); err == nil {
		return final, nil
	}
	ctx, cancel := context.WithTimeout(ctx, recipeBuildLimit)
	defer cancel()
	// Only the holder of the lock builds this recipe: any build directory
	// of it is a killed build's.
	removeStale(root, ".build-"+r.key()+"-", true, m.logf)
	work, err := os.MkdirTemp(root, tempPattern(".build-"+r.key()+"-"))
	if err != nil {
		return "", err
	}
	defer removeBuildDir(work)
	var imgs []*ociimage.Image
	switch r.kind {
	case "busybox":
		// One source package serves every architecture.
		if imgs, err = m.buildBusybox(ctx, r, work); err != nil {
			return "", fmt.Errorf("source %s: %w", src, err)
		}
	case "alpine":
		if imgs, err = m.buildAlpine(ctx, r, work); err != nil {
			return "", fmt.Errorf("source %s: %w", src, err)
		}
	case "debian":
		for _, arch := range r.archs {
			img, err := buildDebian(ctx, r, arch, work)
			if err != nil {
				return "", fmt.Errorf("source %s: linux/%s: %w", src, arch, err)
			}
			imgs = append(imgs, img)
		}
	}
	idx, err := ociimage.Index(imgs...)
	if err != nil {
		return "", fmt.Errorf("source %s: %w", src, err)
	}
	out := filepath.Join(work, "layout")
	if _, err := ociimage.WriteLayout(out, "image", idx); err != nil {
		return "", fmt.Errorf("source %s: %w", src, err)
	}
	// The rename publishes the whole layout at once.
	if err := os.Rename(out, final); err != nil {
		return "", fmt.Errorf("source %s: publish %s: %w", src, final, err)
	}
	return final, nil
}

// ErrMissingTool is returned (wrapped) when a recipe needs a program that
// is not installed; the message names it.
var ErrMissingTool = errors.New("missing tool")
