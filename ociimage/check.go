package ociimage

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/matrixbox/matrixbox/matrix/platform"
)

// Assertion is one property [Check] verifies of an *Image or an
// *IndexImage. Each says which of the two it applies to.
type Assertion struct {
	name  string
	image func(*Image) []string
	index func(*IndexImage) []string
}

// Check verifies every assertion against subject and reports each mismatch with t.Errorf: one run shows all
// that is wrong, not only the first thing. It reports whether all held.
func Check(t testing.TB, subject Artifact, as ...Assertion) bool {
	t.Helper()
	errs := verify(subject, as)
	for _, e := range errs {
		t.Errorf("%s", e)
	}
	return len(errs) == 0
}

// Verify is Check without a testing.TB: every mismatch joined in one error,
// nil when all hold.
func Verify(subject Artifact, as ...Assertion) error {
	var errs []error
	for _, e := range verify(subject, as) {
		errs = append(errs, errors.New(e))
	}
	return errors.Join(errs...)
}

func verify(subject Artifact, as []Assertion) []string {
	var out []string
	var what string
	switch s := subject.(type) {
	case nil:
		return []string{"check: no image given"}
	case *Image:
		if s == nil {
			return []string{"image: nil"}
		}
		what = "image " + shortDigest(s.Descriptor.Digest.String())
	case *IndexImage:
		if s == nil {
			return []string{"index: nil"}
		}
		what = "index " + shortDigest(s.Descriptor.Digest.String())
	}
	for _, a := range as {
		var msgs []string
		switch s := subject.(type) {
		case *Image:
			if a.image == nil {
				msgs = []string{"applies to an index, not an image"}
			} else {
				msgs = a.image(s)
			}
		case *IndexImage:
			if a.index == nil {
				msgs = []string{"applies to an image, not an index"}
			} else {
				msgs = a.index(s)
			}
		}
		for _, m := range msgs {
			out = append(out, fmt.Sprintf("%s: %s: %s", what, a.name, m))
		}
	}
	return out
}

func shortDigest(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[:i+13]
	}
	return d
}

func one(format string, args ...any) []string { return []string{fmt.Sprintf(format, args...)} }

// LayerCount: the image has n layers.
func LayerCount(n int) Assertion {
	return Assertion{name: fmt.Sprintf("LayerCount(%d)", n), image: func(i *Image) []string {
		if got := len(i.Manifest.Layers); got != n {
			return one("has %d layers", got)
		}
		if got := len(i.Config.RootFS.DiffIDs); got != n {
			return one("config lists %d diff_ids", got)
		}
		return nil
	}}
}

// LayerDigests: the image's layers have exactly these digests, in order.
func LayerDigests(ds ...string) Assertion {
	return Assertion{name: "LayerDigests", image: func(i *Image) []string {
		var got []string
		for _, l := range i.Manifest.Layers {
			got = append(got, l.Digest.String())
		}
		if !slices.Equal(got, ds) {
			return one("layers %v, want %v", got, ds)
		}
		return nil
	}}
}

// LayerMediaType: every layer has media type mt.
func LayerMediaType(mt string) Assertion {
	return Assertion{name: "LayerMediaType(" + mt + ")", image: func(i *Image) []string {
		var out []string
		for n, l := range i.Manifest.Layers {
			if l.MediaType != mt {
				out = append(out, fmt.Sprintf("layer %d (%s) is %s", n, l.Digest, l.MediaType))
			}
		}
		return out
	}}
}

// MediaType: the manifest or index document has media type mt.
func MediaType(mt string) Assertion {
	return Assertion{name: "MediaType(" + mt + ")",
		image: func(i *Image) []string {
			if i.Descriptor.MediaType != mt {
				return one("is %s", i.Descriptor.MediaType)
			}
			return nil
		},
		index: func(x *IndexImage) []string {
			if x.Descriptor.MediaType != mt {
				return one("is %s", x.Descriptor.MediaType)
			}
			return nil
		}}
}

// Label: the config has label k with value v.
func Label(k, v string) Assertion {
	return Assertion{name: fmt.Sprintf("Label(%s=%s)", k, v), image: func(i *Image) []string {
		got, ok := i.Config.Config.Labels[k]
		switch {
		case !ok:
			return one("no such label")
		case got != v:
			return one("label is %q", got)
		}
		return nil
	}}
}

// Env: the config's environment has k=v.
func Env(k, v string) Assertion {
	return Assertion{name: fmt.Sprintf("Env(%s=%s)", k, v), image: func(i *Image) []string {
		for _, e := range i.Config.Config.Env {
			if name, val, _ := strings.Cut(e, "="); name == k {
				if val != v {
					return one("%s=%s", k, val)
				}
				return nil
			}
		}
		return one("no %s in %v", k, i.Config.Config.Env)
	}}
}

// Entrypoint: the config's entrypoint is exactly args.
func Entrypoint(args ...string) Assertion {
	return Assertion{name: "Entrypoint", image: func(i *Image) []string {
		if !slices.Equal(i.Config.Config.Entrypoint, args) {
			return one("is %q, want %q", i.Config.Config.Entrypoint, args)
		}
		return nil
	}}
}

// Annotation: the manifest or index has annotation k=v, on the document or
// on the descriptor it was reached by (where index.json keeps ref names).
func Annotation(k, v string) Assertion {
	check := func(doc, desc map[string]string) []string {
		got, ok := desc[k]
		if !ok {
			got, ok = doc[k]
		}
		switch {
		case !ok:
			return one("no such annotation")
		case got != v:
			return one("annotation is %q", got)
		}
		return nil
	}
	return Assertion{name: fmt.Sprintf("Annotation(%s=%s)", k, v),
		image: func(i *Image) []string { return check(i.Manifest.Annotations, i.Descriptor.Annotations) },
		index: func(x *IndexImage) []string { return check(x.Index.Annotations, x.Descriptor.Annotations) }}
}

// RefName: org.opencontainers.image.ref.name is name.
func RefName(name string) Assertion {
	a := Annotation(ocispec.AnnotationRefName, name)
	a.name = "RefName(" + name + ")"
	return a
}

// Platform: the image's config names platform p (compared normalised, so
// "linux/aarch64" matches linux/arm64).
func Platform(p string) Assertion {
	return Assertion{name: "Platform(" + p + ")", image: func(i *Image) []string {
		want, err := platform.Parse(p)
		if err != nil {
			return one("%v", err)
		}
		if !platform.Same(want, i.Config.Platform) {
			return one("is %s", platform.Format(i.Config.Platform))
		}
		if d := i.Descriptor.Platform; d != nil && !platform.Same(want, *d) {
			return one("config says so but the descriptor says %s", platform.Format(*d))
		}
		return nil
	}}
}

// Platforms: the index lists exactly these platforms (in any order),
// attestation manifests aside.
func Platforms(ps ...string) Assertion {
	return Assertion{name: "Platforms(" + strings.Join(ps, ",") + ")", index: func(x *IndexImage) []string {
		var want, got []string
		for _, p := range ps {
			n, err := platform.Parse(p)
			if err != nil {
				return one("%v", err)
			}
			want = append(want, platform.Format(n))
		}
		for _, m := range x.Index.Manifests {
			if m.Annotations[AnnotationReferenceType] == "attestation-manifest" {
				continue
			}
			if m.Platform == nil {
				got = append(got, "(none)")
				continue
			}
			got = append(got, platform.Format(*m.Platform))
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(want, got) {
			return one("lists %v", got)
		}
		return nil
	}}
}

// ManifestCount: the index lists n manifests (attestations included).
func ManifestCount(n int) Assertion {
	return Assertion{name: fmt.Sprintf("ManifestCount(%d)", n), index: func(x *IndexImage) []string {
		if got := len(x.Index.Manifests); got != n {
			return one("lists %d", got)
		}
		return nil
	}}
}

// ForPlatform applies assertions to the index's image for platform p.
func ForPlatform(p string, as ...Assertion) Assertion {
	return Assertion{name: "ForPlatform(" + p + ")", index: func(x *IndexImage) []string {
		want, err := platform.Parse(p)
		if err != nil {
			return one("%v", err)
		}
		for _, img := range x.Images {
			if img.Descriptor.Annotations[AnnotationReferenceType] == "attestation-manifest" {
				continue
			}
			if platform.Same(want, img.Config.Platform) {
				return verify(img, as)
			}
		}
		return one("no image for %s", platform.Format(want))
	}}
}

// HasFile: path in the merged filesystem is a file (after links) holding
// exactly content.
func HasFile(path, content string) Assertion {
	return Assertion{name: "HasFile(" + path + ")", image: func(i *Image) []string {
		got, err := i.ReadFile(path)
		if err != nil {
			return one("%v", err)
		}
		if !bytes.Equal(got, []byte(content)) {
			return one("holds %q, want %q", clip(got), clip([]byte(content)))
		}
		return nil
	}}
}

// FileContains: path in the merged filesystem holds substr.
func FileContains(path, substr string) Assertion {
	return Assertion{name: "FileContains(" + path + ")", image: func(i *Image) []string {
		got, err := i.ReadFile(path)
		if err != nil {
			return one("%v", err)
		}
		if !bytes.Contains(got, []byte(substr)) {
			return one("holds %q, no %q in it", clip(got), substr)
		}
		return nil
	}}
}

// FileMode: path (not following a final symbolic link) has mode m.
func FileMode(path string, m fs.FileMode) Assertion {
	return Assertion{name: fmt.Sprintf("FileMode(%s, %v)", path, m), image: func(i *Image) []string {
		f, err := i.Stat(path)
		if err != nil {
			return one("%v", err)
		}
		if f.Mode != m {
			return one("mode is %v", f.Mode)
		}
		return nil
	}}
}

// NoFile: path does not exist in the merged filesystem (a whiteout hid it,
// or no layer had it).
func NoFile(path string) Assertion {
	return Assertion{name: "NoFile(" + path + ")", image: func(i *Image) []string {
		f, err := i.Stat(path)
		if err == nil {
			return one("exists (%v, from layer %d)", f.Mode, f.Layer)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return one("%v", err)
		}
		return nil
	}}
}

func clip(b []byte) string {
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}
