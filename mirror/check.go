package mirror

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
)

// Verify checks every image recorded in the mirror directory: its tag
// points at its manifest, and every blob it lists is present with the right
// size and digest. It returns nil for a sound mirror and otherwise one error
// naming each broken image and blob. It reads every blob: it is the
// integrity check run after a crash or a fault, not on every Ensure.
func (m *Mirror) Verify(ctx context.Context) error {
	if m.dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return err
		}
		m.dir = d
	}
	ents, err := os.ReadDir(m.imagesDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mirror verify: %w", err)
	}
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
			if err := m.blobIntact(bl); err != nil {
				errs = append(errs, fmt.Errorf("image %s: %w", rec.Target, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("mirror %s is damaged: %w", m.dir, err)
	}
	return nil
}

// blobIntact hashes a stored blob and compares it with its digest and size.
func (m *Mirror) blobIntact(b blobRecord) error {
	f, err := os.Open(m.blobPath(b.Digest))
	if err != nil {
		return fmt.Errorf("blob %s: %w", b.Digest, err)
	}
	defer f.Close()
	v := b.Digest.Algorithm().Digester()
	n, err := io.Copy(v.Hash(), f)
	if err != nil {
		return fmt.Errorf("blob %s: %w", b.Digest, err)
	}
	if n != b.Size {
		return fmt.Errorf("blob %s has %d bytes, want %d: %w", b.Digest, n, b.Size, ErrDigestMismatch)
	}
	if got := v.Digest(); got != b.Digest {
		return fmt.Errorf("blob %s hashes to %s: %w", b.Digest, got, ErrDigestMismatch)
	}
	return nil
}

// intactOnce reports whether rec's blobs are intact, cheaply: a blob is
// hashed only when its file was modified after the image was recorded
// (blobs are written once, so a later write is damage or a repair), and a
// record found intact is not looked at again by this process. A warm hit
// stays a few stats; damage that leaves the modification time alone (bit
// rot) is what Verify, which hashes everything, is for.
func (m *Mirror) intactOnce(rec record) bool {
	m.mu.Lock()
	done := m.verified[rec.Digest]
	m.mu.Unlock()
	if done {
		return true
	}
	for _, b := range rec.Blobs {
		fi, err := os.Stat(m.blobPath(b.Digest))
		if err != nil {
			return false
		}
		if fi.ModTime().After(rec.CopiedAt) && m.blobIntact(b) != nil {
			return false
		}
	}
	m.mu.Lock()
	if m.verified == nil {
		m.verified = map[digest.Digest]bool{}
	}
	m.verified[rec.Digest] = true
	m.mu.Unlock()
	return true
}
