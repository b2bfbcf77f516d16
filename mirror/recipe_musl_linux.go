package mirror

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// muslToolchain fetches the musl-dev and musl packages of suite for t's
// architecture from the Debian archive (checked against its Packages
// index, kept in the mirror's sources), unpacks them under work and writes
// the specs that point gcc at them.
func (m *Mirror) muslToolchain(ctx context.Context, suite string, t busyboxTarget, work string) (*muslToolchain, error) {
	sources := filepath.Join(m.recipesDir(), "sources")
	if err := os.MkdirAll(sources, 0o755); err != nil {
		return nil, err
	}
	dir := filepath.Join(work, "musl-"+t.debArch)
	for _, pkg := range []string{"musl-dev", "musl"} {
		deb, err := fetchDeb(ctx, sources, suite, t.debArch, pkg)
		if err != nil {
			return nil, fmt.Errorf("musl for %s: %w", t.debArch, err)
		}
		if err := runLogged(ctx, "dpkg-deb", "-x", deb, dir); err != nil {
			return nil, fmt.Errorf("musl for %s: %w", t.debArch, err)
		}
	}
	lib := filepath.Join(dir, "usr", "lib", t.triplet)
	specs, err := os.ReadFile(filepath.Join(lib, "musl-gcc.specs"))
	if err != nil {
		return nil, fmt.Errorf("musl-dev for %s: %w", t.debArch, err)
	}
	// The specs name musl's headers and libraries by their installed
	// paths; the dynamic linker's (/lib/ld-musl-*.so.1) stays, as the
	// image's.
	moved := strings.NewReplacer(
		"/usr/include/"+t.triplet, filepath.Join(dir, "usr", "include", t.triplet),
		"/usr/lib/"+t.triplet, lib,
	).Replace(string(specs))
	mt := &muslToolchain{
		specs: filepath.Join(dir, "musl-gcc.specs"),
		libcA: filepath.Join(lib, "libc.a"),
		// The musl package's, outside /usr (/lib/<triplet>/libc.so).
		libcSO: filepath.Join(dir, "lib", t.triplet, "libc.so"),
	}
	if err := os.WriteFile(mt.specs, []byte(moved), 0o644); err != nil {
		return nil, err
	}
	for _, p := range []string{mt.libcA, mt.libcSO} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("musl for %s: %w", t.debArch, err)
		}
	}
	return mt, nil
}
