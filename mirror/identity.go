package mirror

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
)

// fileID is what the mirror records of a blob file when it finds it intact
// on this machine: enough to tell, with one stat, whether it is still that
// very file, unchanged.
//
// The inode and device change when the file is replaced (a copy, a tar or
// `cp -a` restore, a repair); the ctime changes on every write and on
// every change of the mtime, and userland cannot set it back. So a file
// whose identity matches was not written since it was hashed.
type fileID struct {
	Size  int64  `json:"size"`
	Dev   uint64 `json:"dev"`
	Ino   uint64 `json:"ino"`
	Mtime int64  `json:"mtimeNs"`
	Ctime int64  `json:"ctimeNs"`
	// Clock is the file system's clock (the ctime of a file created for
	// the purpose) just before the blob was looked at. File timestamps
	// come from a clock that ticks every few milliseconds, so a write in
	// the tick of the recorded ctime may leave the ctime as it was; a
	// write after Clock cannot. An identity is trusted only when the
	// recorded ctime is before Clock (see settled), as git does with its
	// "racily clean" index entries.
	Clock int64 `json:"clockNs"`
}

// same reports whether a and b describe the same, unchanged file.
func (a fileID) same(b fileID) bool {
	return a.Size == b.Size && a.Dev == b.Dev && a.Ino == b.Ino && a.Mtime == b.Mtime && a.Ctime == b.Ctime
}

// settled reports whether no write after the identity was taken can have
// left the ctime unchanged.
func (a fileID) settled() bool { return a.Ctime < a.Clock }

func (s *blobStore) idPath(d digest.Digest) string {
	return filepath.Join(s.idDir, string(d.Algorithm()), d.Encoded())
}

func readID(path string) (fileID, bool) {
	var buf [512]byte
	n, err := readSmall(path, buf[:])
	if err != nil || n == len(buf) {
		return fileID{}, false
	}
	var id fileID
	if json.Unmarshal(buf[:n], &id) != nil {
		return fileID{}, false
	}
	return id, true
}

// clockProbe is a new, empty file in the identity directory: its ctime
// reads the file system's clock, and once written it becomes the identity
// file, renamed into place so that readers see a whole identity or none.
type clockProbe struct {
	f     *os.File
	clock int64
}

// newProbe creates a probe. Identities are a cache: a mirror directory
// where they cannot be written still works, each check hashing.
func (s *blobStore) newProbe() (*clockProbe, error) {
	if err := os.MkdirAll(s.idDir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(s.idDir, ".tmp-*")
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	id, ok := fileIDOf(fi)
	if err != nil || !ok {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("read the file system clock from %s: %v", f.Name(), err)
	}
	return &clockProbe{f: f, clock: id.Ctime}, nil
}

// commit writes id, stamped with the probe's clock, as d's identity. No
// fsync: an identity lost in a crash costs one hash, nothing more.
func (p *clockProbe) commit(s *blobStore, d digest.Digest, id fileID) error {
	id.Clock = p.clock
	b, err := json.Marshal(id)
	if err == nil {
		_, err = p.f.Write(b)
	}
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	dst := s.idPath(d)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(dst), 0o755)
	}
	if err == nil {
		err = os.Rename(p.f.Name(), dst)
	}
	if err != nil {
		os.Remove(p.f.Name())
		return fmt.Errorf("record identity of blob %s: %w", d, err)
	}
	s.mu.Lock()
	s.ids[d] = id
	s.mu.Unlock()
	return nil
}

// discard removes a probe that will not be committed.
func (p *clockProbe) discard() {
	p.f.Close()
	os.Remove(p.f.Name())
}
