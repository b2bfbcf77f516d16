package mirror

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
)

// blobStore checks the blob files of a mirror directory against their
// digests, cheaply: a blob is hashed only when it does not match the
// identity (fileID) recorded when this machine last found it intact. The
// identities are kept per blob, in DIR/verified/<alg>/<hex>, because blobs
// are shared between images; any process may write them (by rename), no
// lock is needed: all writers record the same truth.
type blobStore struct {
	root  string // the registry's storage directory
	idDir string
	logf  func(format string, args ...any)

	mu      sync.Mutex
	ids     map[digest.Digest]fileID // identities this process read or wrote
	hashing map[digest.Digest]*hashCall
	hashed  int
	damaged []DamagedBlob
}

type hashCall struct {
	done chan struct{}
	err  error
}

func newBlobStore(root, idDir string, logf func(string, ...any)) *blobStore {
	return &blobStore{root: root, idDir: idDir, logf: logf, ids: map[digest.Digest]fileID{}, hashing: map[digest.Digest]*hashCall{}}
}

func blobPath(root string, d digest.Digest) string {
	h := d.Encoded()
	return filepath.Join(root, "docker/registry/v2/blobs", string(d.Algorithm()), h[:2], h, "data")
}

// check reports whether d's blob file is intact: nil when it is, an error
// wrapping ErrDigestMismatch when it is damaged (the file is then removed,
// so that the registry no longer has it and the next copy writes it
// again), one wrapping fs.ErrNotExist when it is absent. size < 0 means
// the size is not known. A file that matches its recorded identity costs
// one stat; any other is hashed, once, however many callers ask at a time.
func (s *blobStore) check(d digest.Digest, size int64) error {
	// A digest this process knows an identity of was validated before.
	s.mu.Lock()
	_, known := s.ids[d]
	s.mu.Unlock()
	if !known {
		if err := d.Validate(); err != nil {
			return fmt.Errorf("blob %q: %w", d, err)
		}
	}
	trusted, err := s.matches(d, size)
	if err != nil || trusted {
		return err
	}
	return s.once(d, func() error {
		// Another caller may have hashed it while this one waited.
		if trusted, err := s.matches(d, size); err != nil || trusted {
			return err
		}
		return s.hashOnce(d, size, true)
	})
}

// verify hashes d's blob whatever its identity says, records the identity
// when it is intact and drops it when it is damaged, leaving the file.
func (s *blobStore) verify(d digest.Digest, size int64) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("blob %q: %w", d, err)
	}
	return s.once(d, func() error { return s.hashOnce(d, size, false) })
}

// matches stats d's blob file and reports whether it is the file of d's
// recorded, settled identity, with the size wanted.
func (s *blobStore) matches(d digest.Digest, size int64) (bool, error) {
	fi, err := os.Stat(blobPath(s.root, d))
	if err != nil {
		return false, fmt.Errorf("blob %s: %w", d, err)
	}
	cur, ok := fileIDOf(fi)
	return ok && (size < 0 || size == fi.Size()) && s.trusted(d, cur), nil
}

// trusted reports whether cur matches d's recorded, settled identity:
// first the one this process knows, then the one on disk, which another
// process may have written since.
func (s *blobStore) trusted(d digest.Digest, cur fileID) bool {
	s.mu.Lock()
	id, ok := s.ids[d]
	s.mu.Unlock()
	if ok && id.same(cur) && id.settled() {
		return true
	}
	id, ok = readID(s.idPath(d))
	if !ok {
		return false
	}
	s.mu.Lock()
	s.ids[d] = id
	s.mu.Unlock()
	return id.same(cur) && id.settled()
}

// once runs f for d, or, when a call for d is running, waits for it and
// returns its result: concurrent checks of one blob share one read.
func (s *blobStore) once(d digest.Digest, f func() error) error {
	s.mu.Lock()
	if c, ok := s.hashing[d]; ok {
		s.mu.Unlock()
		<-c.done
		return c.err
	}
	c := &hashCall{done: make(chan struct{})}
	s.hashing[d] = c
	s.mu.Unlock()

	c.err = f()

	s.mu.Lock()
	delete(s.hashing, d)
	s.mu.Unlock()
	close(c.done)
	return c.err
}

// hashOnce reads d's blob and compares it with d (and size when >= 0).
// When intact, the file's identity is recorded; when damaged, the identity
// is dropped and, if remove, the file is removed.
func (s *blobStore) hashOnce(d digest.Digest, size int64, remove bool) error {
	// The probe reads the clock before the file is opened: a write after
	// this moment changes the ctime recorded below.
	probe, perr := s.newProbe()
	if perr != nil {
		s.logf("mirror: %v; blob %s is checked without recording it", perr, d)
	}
	committed := false
	defer func() {
		if probe != nil && !committed {
			probe.discard()
		}
	}()
	p := blobPath(s.root, d)
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("blob %s: %w", d, err)
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return fmt.Errorf("blob %s: %w", d, err)
	}
	v := d.Algorithm().Digester()
	n, err := io.Copy(v.Hash(), f)
	if err != nil {
		return fmt.Errorf("blob %s: %w", d, err)
	}
	after, err := f.Stat()
	if err != nil {
		return fmt.Errorf("blob %s: %w", d, err)
	}
	s.mu.Lock()
	s.hashed++
	s.mu.Unlock()
	id0, ok0 := fileIDOf(before)
	id, ok := fileIDOf(after)
	var damage string
	switch got := v.Digest(); {
	case size >= 0 && n != size:
		damage = fmt.Sprintf("has %d bytes, want %d", n, size)
	case got != d:
		damage = "hashes to " + got.String()
	case ok0 && ok && !id0.same(id):
		// Blobs are written once, by rename: a write is damage.
		damage = "was written to while it was being hashed"
	}
	if damage != "" {
		s.forget(d)
		if remove {
			s.removeIf(p, id0, ok0)
		}
		return &damageError{digest: d, reason: damage}
	}
	if probe != nil && ok {
		if err := probe.commit(s, d, id); err != nil {
			s.logf("mirror: %v", err)
		}
		committed = true
	}
	return nil
}

// damageError says how a blob file is damaged; it wraps ErrDigestMismatch.
type damageError struct {
	digest digest.Digest
	reason string
}

func (e *damageError) Error() string {
	return fmt.Sprintf("blob %s %s: %v", e.digest, e.reason, ErrDigestMismatch)
}

func (e *damageError) Unwrap() error { return ErrDigestMismatch }

// noteCommitted records the identity of d's blob file, just written by a
// push that the registry verified against d (it hashes every upload before
// committing it), unless an identity of this very file is recorded already.
func (s *blobStore) noteCommitted(d digest.Digest) error {
	p := blobPath(s.root, d)
	probe, err := s.newProbe()
	if err != nil {
		return err
	}
	fi, err := os.Stat(p)
	if err != nil {
		probe.discard()
		return fmt.Errorf("blob %s after push: %w", d, err)
	}
	cur, ok := fileIDOf(fi)
	if !ok {
		probe.discard()
		return nil
	}
	if id, known := readID(s.idPath(d)); known && id.same(cur) {
		probe.discard()
		return nil
	}
	return probe.commit(s, d, cur)
}

// forget drops d's identity, so that no process trusts it.
func (s *blobStore) forget(d digest.Digest) {
	s.mu.Lock()
	delete(s.ids, d)
	s.mu.Unlock()
	if err := os.Remove(s.idPath(d)); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.logf("mirror: forget identity of blob %s: %v", d, err)
	}
}

// removeIf removes the damaged blob file at p, unless it was replaced since
// it was hashed (by a repair in another process, say).
func (s *blobStore) removeIf(p string, hashed fileID, known bool) {
	if fi, err := os.Stat(p); err == nil && known {
		if cur, ok := fileIDOf(fi); ok && (cur.Dev != hashed.Dev || cur.Ino != hashed.Ino) {
			return
		}
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.logf("mirror: remove damaged blob %s: %v", p, err)
	}
}

func (s *blobStore) hashedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hashed
}

// DamagedBlob is a blob the mirror's server refused to serve because its
// file no longer matched its digest. The file was removed, so the next
// Ensure of an image holding it copies that image again.
type DamagedBlob struct {
	Digest digest.Digest
	// Repo is the repository the client asked for it in, e.g.
	// "library/busybox".
	Repo string
	// Path is the file that held it.
	Path string
	// Reason says what was wrong: "hashes to sha256:…", "has 10 bytes,
	// want 4096".
	Reason string
	At     time.Time
}

func (d DamagedBlob) String() string {
	return fmt.Sprintf("blob %s of %s (%s) was damaged: %s; the mirror refused it and removed it, the next Ensure copies its image again",
		d.Digest, d.Repo, d.Path, d.Reason)
}

// Damaged lists, oldest first, the blobs this mirror's server refused as
// damaged. A daemon that pulled one fails with an error that names no
// cause ("unexpected commit digest", "unexpected status 500"): this says
// which blob and why.
func (m *Mirror) Damaged() []DamagedBlob {
	m.mu.Lock()
	s := m.blobs
	m.mu.Unlock()
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]DamagedBlob(nil), s.damaged...)
}

// DamagedSince describes the blobs refused as damaged at or after t; it is
// what integration.Run adds to the log of a failing case.
func (m *Mirror) DamagedSince(t time.Time) []string {
	var out []string
	for _, d := range m.Damaged() {
		if !d.At.Before(t) {
			out = append(out, d.String())
		}
	}
	return out
}
