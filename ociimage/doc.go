// Package ociimage builds, reads, inspects and asserts on OCI images natively
// in Go, on containerd's content types and the image-spec types: no skopeo,
// umoci or jq at run time.
//
// Building: a [Layer] comes from files ([LayerFromFiles]), a root filesystem
// directory ([LayerFromDir]) or Debian packages ([LayerFromDebs]); [Build]
// makes an [Image] (manifest and config) from layers, [Index] a
// multi-platform [IndexImage], and [WriteLayout] stores either in an OCI
// image layout directory under a ref name, adding to what is already there.
// [MarkerIndex] makes the index of the platform-selection scenario: one
// manifest per platform, each carrying /platform-marker.
//
// Reading: [OpenLayout] opens a layout directory, an OCI layout tar or a
// docker-archive tar; [Layout.Find] resolves a manifest by ref name and
// platform; every blob read is checked against its digest. [Image.ReadFile] and
// [Image.Files] show the image's merged filesystem with whiteouts applied.
// [Layout.Store] is a read-only containerd content store over a layout, for
// BuildKit's SolveOpt.OCIStores.
//
// Platforms are those of the platform axis: parsed, normalised (x86_64,
// aarch64 and the variant defaults are understood), compared and matched by
// package github.com/matrixbox/matrixbox/matrix/platform, with BuildKit's
// variant fallback (linux/amd64 serves linux/amd64/v3).
//
// Asserting: [Check] takes a testing.TB and a list of assertions and reports
// every mismatch at once, in the manner of testing/fstest.TestFS.
package ociimage
