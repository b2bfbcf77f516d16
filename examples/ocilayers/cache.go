package ocilayers

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/matrixbox/matrixbox/ociimage"
	"github.com/opencontainers/go-digest"
)

// Package is one Debian package of a layer.
type Package struct {
	Name, Version, Arch string
	Path                string // the .deb
}

// DebPackage reads name, version and architecture from a .deb's file name
// as apt-get download writes it: name_version_arch.deb, ':' escaped as %3a.
func DebPackage(path string) (Package, error) {
	base := strings.TrimSuffix(filepath.Base(path), ".deb")
	parts := strings.Split(base, "_")
	if len(parts) != 3 || !strings.HasSuffix(path, ".deb") {
		return Package{}, fmt.Errorf("package file %s: want name_version_arch.deb", path)
	}
	version, err := url.PathUnescape(parts[1])
	if err != nil {
		return Package{}, fmt.Errorf("package file %s: version: %w", path, err)
	}
	return Package{Name: parts[0], Version: version, Arch: parts[2], Path: path}, nil
}

// Cache keeps built layers in a directory, one entry per key, named
// <key prefix>-<layer name>, each with a marker file.
type Cache struct {
	Dir string
	// Log receives one line per lookup: "OCI Cache HIT: …" or "OCI Cache MISS: …".
	Log func(format string, args ...any)
}

// Key is the cache key of a layer: its name, its architecture and its
// packages with their versions, in sorted order so that listing order does
// not matter. files is a digest of any non-package content (or "").
func Key(name, arch string, pkgs []Package, files string) string {
	lines := []string{"layer_name=" + name, "arch=" + arch, "files=" + files}
	var ps []string
	for _, p := range pkgs {
		ps = append(ps, p.Name+"="+p.Version)
	}
	sort.Strings(ps)
	lines = append(lines, ps...)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(sum[:])
}

const markerFile = ".oci-layer-cache"

// Layer returns the cached layer for key, or builds it with build and
// stores it. hit reports which.
func (c *Cache) Layer(name, key string, build func() (ociimage.Layer, error)) (l ociimage.Layer, hit bool, err error) {
	entry := filepath.Join(c.Dir, key[:16]+"-"+name)
	blob, errBlob := os.ReadFile(filepath.Join(entry, "layer.tar.gz"))
	marker, errMarker := os.ReadFile(filepath.Join(entry, markerFile))
	if errBlob == nil && errMarker == nil {
		fields := parseMarker(string(marker))
		if fields["cache_key"] == key {
			l = ociimage.LayerFromBlob(fields["media_type"], blob, digest.Digest(fields["diff_id"]))
			if l.DiffID.Validate() == nil && string(l.Digest) == fields["digest"] {
				c.logf("OCI Cache HIT: %s (%s)", name, key[:16])
				return l, true, nil
			}
		}
	}
	c.logf("OCI Cache MISS: %s (%s)", name, key[:16])
	if l, err = build(); err != nil {
		return l, false, fmt.Errorf("build layer %s: %w", name, err)
	}
	rc, err := l.Open()
	if err != nil {
		return l, false, err
	}
	defer rc.Close()
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return l, false, fmt.Errorf("cache layer %s: %w", name, err)
	}
	tmp, err := os.MkdirTemp(c.Dir, ".tmp-"+name+"-")
	if err != nil {
		return l, false, fmt.Errorf("cache layer %s: %w", name, err)
	}
	defer os.RemoveAll(tmp)
	f, err := os.Create(filepath.Join(tmp, "layer.tar.gz"))
	if err != nil {
		return l, false, err
	}
	if _, err := f.ReadFrom(rc); err != nil {
		f.Close()
		return l, false, fmt.Errorf("cache layer %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return l, false, err
	}
	m := fmt.Sprintf("cache_key=%s\nlayer_name=%s\ncreated=%s\nmedia_type=%s\ndigest=%s\ndiff_id=%s\n",
		key, name, time.Now().UTC().Format(time.RFC3339), l.MediaType, l.Digest, l.DiffID)
	if err := os.WriteFile(filepath.Join(tmp, markerFile), []byte(m), 0o644); err != nil {
		return l, false, err
	}
	// An entry appears whole or not at all.
	os.RemoveAll(entry)
	if err := os.Rename(tmp, entry); err != nil {
		return l, false, fmt.Errorf("cache layer %s: %w", name, err)
	}
	return l, false, nil
}

func (c *Cache) logf(format string, args ...any) {
	if c.Log != nil {
		c.Log(format, args...)
	}
}

func parseMarker(s string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			out[k] = v
		}
	}
	return out
}
