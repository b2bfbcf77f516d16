package mirror

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
)

// Verify checks every image recorded in the mirror directory: its tag
// points at its manifest, and every blob it lists is present with the right
// size and digest. It returns nil for a sound mirror and otherwise one error
// naming each broken image and blob. It reads every blob, whatever its
// recorded identity says: it is the integrity check run after a crash or a
// fault, or for damage that leaves a file's identity alone (bit rot), not
// on every Ensure. It records the identity of each intact blob, and drops
// that of each damaged one, so that the next Ensure hashes it, finds the
// damage and copies the image again.
func (m *Mirror) Verify(ctx context.Context) error {
	blobs, err := m.store()
	if err != nil {
		return err
	}
	ents, err := os.ReadDir(m.imagesDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mirror verify: %w", err)
	}
	// Blobs are shared between images: each is read once.
	hashed := map[digest.Digest]error{}
	var errs []error
	for _, e := range ents {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		p := filepath.Join(m.imagesDir(), e.Name())
		b, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var rec record
		if err := json.Unmarshal(b, &rec); err != nil {
			errs = append(errs, fmt.Errorf("record %s: %w", p, err))
			continue
		}
		if bad := m.missing(rec); bad != "" {
			errs = append(errs, fmt.Errorf("image %s: %s", rec.Target, bad))
			continue
		}
		for _, bl := range rec.Blobs {
			err, done := hashed[bl.Digest]
			if !done {
				err = blobs.verify(bl.Digest, bl.Size)
				hashed[bl.Digest] = err
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("image %s: %w", rec.Target, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("mirror %s is damaged: %w", m.dir, err)
	}
	return nil
}
